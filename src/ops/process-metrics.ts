// The process collector every Prometheus client library ships (client_golang's is the
// reference): CPU seconds, resident memory, start time and file descriptors, under their
// standard names, so the usual dashboards and alerts work on a Backroom process unchanged.
// Node's modules by their default export: a named import makes Bun build the module's whole
// namespace at start (node:fs: ~5 ms of a start here; measured in issue 20).
import fs from "node:fs";
import { ComputedCounter, Gauge, type Registry } from "./metrics.ts";

/** When this process started, in epoch seconds (the same value on every scrape). */
const startTimeSeconds = (performance.timeOrigin || Date.now() - process.uptime() * 1000) / 1000;

export function addProcessMetrics(registry: Registry): void {
  registry.add(new ComputedCounter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", () => {
    const { user, system } = process.cpuUsage();
    return [{ value: (user + system) / 1e6 }];
  }));
  registry.add(new Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", () => [{ value: process.memoryUsage.rss() }]));
  registry.add(new Gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", () => [{ value: startTimeSeconds }]));
  // Linux's /proc: elsewhere the series are absent (the gauge renders no sample), not wrong.
  registry.add(new Gauge("process_open_fds", "Number of open file descriptors.", () => [{ value: fs.readdirSync("/proc/self/fd").length }]));
  registry.add(new Gauge("process_max_fds", "Maximum number of open file descriptors.", () => {
    const line = /^Max open files\s+(\d+)/m.exec(fs.readFileSync("/proc/self/limits", "utf8"));
    return line ? [{ value: Number(line[1]) }] : [];
  }));
}
