// Job events on a PostgreSQL queue survive kill -9: they are written in the settle's own
// transaction (src/events/postgres-outbox.ts), so at any instant — a worker killed mid-run
// included — every job PostgreSQL holds as succeeded has its job.*.completed event beside it,
// and once the broker is back and a worker runs again, each reaches a subscriber in another
// process. NATS is a nats-server of the test's own (the machine's shared one is never stopped),
// down until after the kill.
import { afterAll, afterEach, expect, test } from "bun:test";
import { SQL } from "bun";
import { PostgresQueue } from "../../src/jobs/postgres.ts";
import { killChildren, spawnBun, spawnCommand } from "../support/child.ts";
import { engineUrl, toolPresent } from "../support/engines.ts";
import { freePort, portOpen } from "../support/ports.ts";
import { waitFor } from "../support/wait.ts";

afterEach(killChildren);

const JOBS = 200;
const NATS_SERVER = ["/usr/sbin/nats-server", Bun.which("nats-server")].find((p) => p && Bun.file(p).size > 0) ?? null;
const url = engineUrl("DATABASE_URL", "PostgreSQL job-event outbox crash test", "postgres://postgres@127.0.0.1:5432/test");

if (url && toolPresent(NATS_SERVER, "nats-server (/usr/sbin/nats-server)", "PostgreSQL job-event outbox crash test")) {
  const sql = new SQL(url, { max: 2 });
  afterAll(() => sql.close());

  test(`a worker on a PostgreSQL queue, its broker down, is killed with kill -9 mid-run (three times): every succeeded job has its completed event in PostgreSQL, and all ${JOBS} reach a subscriber once the broker and a worker are back`, async () => {
    const table = `pgcrash_${process.pid}`;
    const port = await freePort();
    const natsUrl = `nats://127.0.0.1:${port}`;
    const count = async (query: string) => Number(((await sql.unsafe(query)) as { n: number }[])[0]!.n);
    const succeeded = () => count(`SELECT count(*)::int AS n FROM ${table} WHERE status = 'succeeded'`);
    const completedKept = () => count(`SELECT count(*)::int AS n FROM ${table}_events WHERE event LIKE '%"type":"job.work.completed"%'`);
    try {
      const queue = new PostgresQueue({ sql, table });
      await queue.migrate();
      const ids = await queue.enqueueMany(Array.from({ length: JOBS }, (_, i) => ({ type: "work", payload: { i } })));
      // Three workers in turn, each killed once a further quarter of the jobs succeeded (a
      // kill lands right after a commit about half the time: three make a miss unlikely).
      const kills: number[] = [];
      for (const quarter of [1, 2, 3]) {
        const worker = spawnBun("test/support/fixtures/pg-event-worker.ts", [url, table, natsUrl]);
        await worker.waitForLine(/^ready$/, 30_000);
        await waitFor(async () => (await succeeded()) >= (JOBS * quarter) / 4, 30_000, `${quarter} quarter(s) of the jobs to succeed`);
        worker.proc.kill("SIGKILL");
        await worker.proc.exited;
        // Killed between any two statements: still, a succeeded job and its event committed together.
        const done = await succeeded();
        expect(done).toBeLessThan(JOBS); // killed mid-run, not after
        expect(await completedKept()).toBe(done);
        kills.push(done);
      }

      spawnCommand([NATS_SERVER!, "-a", "127.0.0.1", "-p", String(port)]);
      await waitFor(() => portOpen(port), 10_000, "nats-server to listen");
      const listener = spawnBun("test/support/fixtures/event-listener.ts", [natsUrl, "job.work.completed"]);
      await listener.waitForLine(/^ready$/, 30_000);
      const second = spawnBun("test/support/fixtures/pg-event-worker.ts", [url, table, natsUrl]);
      await second.waitForLine(/^ready$/, 30_000);

      const arrived = () => listener.output().split("\n").filter((l) => l.startsWith("event ")).map((l) => l.split(" ")[2]!);
      await waitFor(() => new Set(arrived()).size >= JOBS, 60_000, `a completed event for each of the ${JOBS} jobs`);
      expect([...new Set(arrived())].sort()).toEqual([...ids].sort()); // none missing, none foreign
      expect(await succeeded()).toBe(JOBS);
      await waitFor(async () => (await count(`SELECT count(*)::int AS n FROM ${table}_events`)) === 0, 10_000, "the relayed events to leave PostgreSQL");
      console.log(`postgres job events: ${JOBS} jobs, succeeded at the kills: ${kills.join(", ")}, ${arrived().length} completed deliveries (${arrived().length - JOBS} duplicates)`);
    } finally {
      await killChildren();
      await sql.unsafe(`DROP TABLE IF EXISTS ${table}, ${table}_events, ${table}_queues, ${table}_queue_succeeded`);
    }
  }, 120_000);
}
