// The server side of bench/events.ts: the store app with a bus and the realtime route, an
// admin token, and — on "go N" from stdin — N events published as fast as possible, each
// stamped with its send time. Prints {url, token} when ready.
import { ensureDevUsers } from "../src/runtime/bootstrap.ts";
import { openDatabase } from "../src/db/index.ts";
import { InProcessBus } from "../src/events/memory-bus.ts";
import { SqliteQueue } from "../src/jobs/index.ts";
import { silentLogger } from "../src/log.ts";
import { createStoreApp, storeMigrations } from "../src/store/app.ts";
import { createMailer } from "../src/runtime/mailer.ts";

const db = openDatabase(":memory:", { migrations: storeMigrations });
const bus = new InProcessBus({ logger: silentLogger });
const store = createStoreApp({ db, queue: new SqliteQueue(db), mailer: createMailer({ from: "b@b.l", outbox: "/tmp/backroom-bench-outbox" }), logger: silentLogger, bus });
ensureDevUsers(store.services);
store.app.listen({ port: 0, hostname: "127.0.0.1" });
console.log(JSON.stringify({ url: `http://127.0.0.1:${store.app.server!.port}`, token: "dev-admin-token" }));

for await (const line of console) {
  const match = /^go (\d+)/.exec(line);
  if (!match) continue;
  for (let i = 0; i < Number(match[1]); i++) {
    await bus.publish("bench.tick", { i, sent_at: performance.timeOrigin + performance.now() }, { visibility: "all" });
    if (i % 20 === 0) await Bun.sleep(0);
  }
}
