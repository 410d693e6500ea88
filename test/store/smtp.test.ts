// Receipts through a real SMTP server (the smtp-server package on 127.0.0.1), read back.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { SMTPServer } from "smtp-server";
import { waitFor } from "../support/wait.ts";
import { storeFixture, type StoreFixture } from "./support.ts";

interface Received {
  from: string;
  to: string[];
  raw: string;
}

let server: SMTPServer;
let port: number;
let received: Received[];
let reject: string | null;
let store: StoreFixture;

beforeEach(async () => {
  received = [];
  reject = null;
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        if (reject) return callback(Object.assign(new Error(reject), { responseCode: 550 }));
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString("utf8") });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.server.address() as { port: number }).port;
  store = storeFixture({ smtpUrl: `smtp://127.0.0.1:${port}` });
});
afterEach(async () => {
  await store.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const placeOrder = async () => {
  const [book] = store.books();
  const reply = await store.call("POST", "/api/orders", { token: store.users.ben.token, body: { lines: [{ book_id: book!.id, quantity: 3 }] } });
  return reply.body.data as { order_id: string; job_id: string };
};

test("the receipt is delivered to the SMTP server and can be read back", async () => {
  const { order_id, job_id } = await placeOrder();
  store.startWorker();
  await waitFor(() => received.length === 1, 10_000, "the SMTP server to receive the receipt");
  const [mail] = received;
  expect(mail!.to).toEqual(["ben@example.com"]);
  expect(mail!.from).toBe("till@backroom.local");
  expect(mail!.raw).toContain(`Subject: Your receipt for order ${order_id}`);
  expect(mail!.raw).toContain(`Message-ID: <receipt-${order_id}@backroom.local>`);
  await waitFor(async () => (await store.queue.getStatus(job_id))?.status === "succeeded");
  expect(await store.queue.getStatus(job_id)).toMatchObject({ resultUrl: `smtp://127.0.0.1:${port}`, output: { to: "ben@example.com" } });
});

test("a server that refuses the message fails the attempt; the job retries and is dead after its last attempt", async () => {
  reject = "mailbox unavailable";
  const { order_id, job_id } = await placeOrder();
  store.startWorker({ baseMs: 1, jitter: 0 });
  await waitFor(async () => (await store.queue.getStatus(job_id))?.status === "dead", 20_000, "the job to die");
  const state = await store.queue.getStatus(job_id);
  expect(state?.attempts).toBe(3);
  expect(state?.error).toContain("mailbox unavailable");
  expect(received).toEqual([]);
  expect(store.services.model("orders").get(order_id)?.status).toBe("placed");
});
