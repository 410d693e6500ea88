// Event delivery, in one run:
//   1. in-process: publish → delivery with 10 subscribers on wildcard patterns;
//   2. realtime: WebSocket fan-out from a server process to 200 connected clients
//      (messages/s, p50/p99 delivery latency from publish to receipt).
//   npm run bench:events            bun bench/events.ts --events 100000 --clients 200 --fanout 200
// Prints one JSON line per case.
import { InProcessBus } from "../src/events/memory-bus.ts";
import { compilePattern } from "../src/events/pattern.ts";
import { silentLogger } from "../src/log.ts";
import { percentile, perSecond } from "./lib/files.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const EVENTS = flag("--events", 100_000);
const CLIENTS = flag("--clients", 200);
const FANOUT_EVENTS = flag("--fanout", 200);
const now = () => performance.timeOrigin + performance.now();

// 1. In-process bus.
{
  const bus = new InProcessBus({ logger: silentLogger });
  const patterns = ["order.*", "order.created", "*.created", "job.>", "job.*.completed", ">", "book.*", "*.updated", "order.>", "job.send_receipt.*"];
  const types = ["order.created", "order.updated", "book.updated", "job.send_receipt.completed", "job.webhook_delivery.failed"];
  let delivered = 0;
  for (const p of patterns) bus.subscribe(p, () => void delivered++);
  const matchers = patterns.map(compilePattern);
  let expected = 0;
  for (let i = 0; i < EVENTS; i++) expected += matchers.filter((m) => m(types[i % types.length]!)).length;
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i++) await bus.publish(types[i % types.length]!, { i });
  const t1 = performance.now();
  while (delivered < expected) await Bun.sleep(1);
  const t2 = performance.now();
  console.log(JSON.stringify({ bench: "events", case: "in_process", events: EVENTS, subscribers: patterns.length, deliveries: delivered, publish_per_s: perSecond(EVENTS, t1 - t0), deliveries_per_s: perSecond(delivered, t2 - t0) }));
}

// 2. Realtime fan-out.
{
  const server = Bun.spawn([process.execPath, `${import.meta.dir}/realtime-server.ts`], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = server.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) text += new TextDecoder().decode((await reader.read()).value);
  const { url, token } = JSON.parse(text.split("\n")[0]!) as { url: string; token: string };
  const latencies: number[] = [];
  let received = 0;
  const sockets = await Promise.all(
    Array.from({ length: CLIENTS }, () => new Promise<WebSocket>((resolve) => {
      const ws = new WebSocket(`${url.replace("http", "ws")}/api/realtime?token=${token}`);
      ws.onmessage = (m) => {
        const message = JSON.parse(String(m.data));
        if (message.type === "ready") ws.send(JSON.stringify({ type: "subscribe", pattern: "bench.>" }));
        else if (message.type === "subscribed") resolve(ws);
        else if (message.type === "event") {
          received++;
          latencies.push(now() - message.event.data.sent_at);
        }
      };
    })),
  );
  const t0 = performance.now();
  server.stdin.write(`go ${FANOUT_EVENTS}\n`);
  server.stdin.flush();
  const total = FANOUT_EVENTS * CLIENTS;
  const deadline = Date.now() + 60_000;
  while (received < total && Date.now() < deadline) await Bun.sleep(5);
  const t1 = performance.now();
  for (const ws of sockets) ws.close();
  server.kill("SIGTERM");
  await server.exited;
  console.log(JSON.stringify({
    bench: "events", case: "realtime_fanout", clients: CLIENTS, events: FANOUT_EVENTS, messages: received, expected: total,
    messages_per_s: perSecond(received, t1 - t0), p50_ms: +percentile(latencies, 50).toFixed(2), p99_ms: +percentile(latencies, 99).toFixed(2),
  }));
}
