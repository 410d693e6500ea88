// A realtime client that stops reading is disconnected (1013) once too much waits for it,
// instead of growing the server's memory. Uses a raw socket: a WebSocket client always reads.
import { expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import { silentLogger } from "../../src/log.ts";
import { storeFixture } from "../store/support.ts";
import { createStoreApp } from "../../src/store/app.ts";
import { createMailer } from "../../src/runtime/mailer.ts";
import { waitFor } from "../support/wait.ts";

function frame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

test("a client that stops reading is disconnected with 1013, not buffered without bound", async () => {
  const store = storeFixture();
  const bus = new InProcessBus({ logger: silentLogger });
  const app = createStoreApp({ db: store.db, queue: store.queue, mailer: createMailer({ from: "t@b.l", outbox: store.tmp.file("o") }), logger: silentLogger, bus });
  app.app.listen({ port: 0, hostname: "127.0.0.1" });
  const port = app.app.server!.port!;
  let received = Buffer.alloc(0);
  let closed = false;
  const socket = connect(port, "127.0.0.1");
  socket.on("data", (d: Buffer) => (received = Buffer.concat([received, d])));
  socket.on("close", () => (closed = true));
  socket.on("error", () => (closed = true));
  await new Promise((r) => socket.once("connect", r));
  socket.write(`GET /api/realtime?token=${store.users.admin.token} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await waitFor(() => received.includes("\"ready\""), 5_000, "the socket to open");
  socket.write(frame(JSON.stringify({ type: "subscribe", pattern: "flood.>" })));
  await waitFor(() => received.includes("\"subscribed\""), 5_000, "the subscription");
  socket.pause(); // stop reading: the kernel buffers fill, then the server's
  const big = "x".repeat(16_000);
  for (let i = 0; i < 600; i++) await bus.publish("flood.tick", { i, big }, { visibility: "all" });
  await Bun.sleep(300);
  socket.resume();
  await waitFor(() => closed, 10_000, "the server to close the connection");
  const close = received.lastIndexOf(Buffer.from([0x88]));
  expect(close).toBeGreaterThan(-1);
  expect(received.readUInt16BE(close + 2)).toBe(1013);
  expect(received.length).toBeLessThan(600 * 16_000); // it did not deliver everything
  await app.app.stop();
  await store.close();
}, 30_000);
