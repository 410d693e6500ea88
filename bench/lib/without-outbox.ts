// Preloaded into `serve` (bun --preload) by bench/outbox.ts to measure this checkout with the
// event outbox taken out: the network bus is used directly, so model events are published
// after their commit and job events after the settle — how events went before the outbox (and
// lost while the broker is away). It separates the outbox's own cost from everything else that
// changed since the checkout compared against. Never for a real till.
import { plugin } from "bun";

const WITH_OUTBOX = "const bus = new OutboxBus(db, network.bus, { logger, engine: network.engine });";

// Connected before serving, so that the seeding's events are not refused for "not connected yet".
const WITHOUT = "await (network.bus as { opened?: Promise<void> }).opened; const bus = network.bus;";

plugin({
  name: "without-outbox",
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]runtime[\\/]server\.ts$/ }, async ({ path }) => {
      const source = await Bun.file(path).text();
      if (!source.includes(WITH_OUTBOX)) throw new Error(`bench/lib/without-outbox.ts: ${path} no longer has "${WITH_OUTBOX}"; update the preload`);
      return { contents: source.replace(WITH_OUTBOX, WITHOUT), loader: "ts" };
    });
  },
});
