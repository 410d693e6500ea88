// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
// text exposition format (version 0.0.4). Small enough to own; nothing here allocates per
// observation beyond the first time a label set is seen.
type Labels = Record<string, string>;

/** A label set's identity, whatever the order its names were given in. Every request observes
 * two series: this was a JSON array of sorted entries, 10% of a status read's time. */
const key = (labels: Labels) => {
  const names = Object.keys(labels);
  if (names.some((name, i) => i > 0 && names[i - 1]! > name)) names.sort();
  let k = "";
  for (const name of names) k += `${name}\u0000${labels[name]}\u0001`;
  return k;
};
const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const labelText = (labels: Labels, extra: Labels = {}) => {
  const all = { ...labels, ...extra };
  const parts = Object.entries(all).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
};
const num = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN");

interface Metric {
  render(): string | Promise<string>;
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    this.series(labels).value += by;
  }
  /** The series of these labels, to add to directly (a caller that keeps it skips the lookup). */
  series(labels: Labels): { value: number } {
    const k = key(labels);
    let entry = this.values.get(k);
    if (!entry) this.values.set(k, (entry = { labels, value: 0 }));
    return entry;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${num(value)}`);
    return lines.join("\n");
  }
}

type Sample = { labels?: Labels; value: number };

/**
 * A gauge whose samples are computed when scraped, perhaps by a query to another server. One
 * that fails or takes longer than `timeoutMs` is rendered without samples (the series is
 * absent, which Prometheus reads as "unknown") instead of failing or holding up the scrape.
 */
export class Gauge implements Metric {
  protected readonly kind: "gauge" | "counter" = "gauge";
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect: () => Sample[] | Promise<Sample[]>,
    private readonly timeoutMs = 2_000,
  ) {}
  async render(): Promise<string> {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.kind}`];
    for (const { labels, value } of await this.samples()) lines.push(`${this.name}${labelText(labels ?? {})} ${num(value)}`);
    return lines.join("\n");
  }
  private async samples(): Promise<Sample[]> {
    let timer: Timer | undefined;
    try {
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("timed out")), this.timeoutMs)));
      return await Promise.race([Promise.resolve().then(this.collect), late]);
    } catch {
      return [];
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A counter kept elsewhere (the kernel's CPU time, say), read when scraped; fails like a Gauge. */
export class ComputedCounter extends Gauge {
  protected override readonly kind = "counter";
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, private readonly buckets: readonly number[]) {}
  observe(labels: Labels, value: number): void {
    this.observer(labels)(value);
  }
  /** Observes into the series of these labels (a caller that keeps it skips the lookup). */
  observer(labels: Labels): (value: number) => void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    const series = s;
    const buckets = this.buckets;
    return (value) => {
      for (let i = 0; i < buckets.length; i++) if (value <= buckets[i]!) series.counts[i]!++;
      series.sum += value;
      series.count++;
    };
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket${labelText(s.labels, { le: num(le) })} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText(s.labels, { le: "+Inf" })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines.join("\n");
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }
  async render(): Promise<string> {
    return (await Promise.all(this.metrics.map((m) => m.render()))).join("\n") + "\n";
  }
}

/** Seconds: 1 ms … 60 s. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
