// The Kafka bus passes the bus, durable and outage conformance suites against librdkafka's MOCK
// cluster (Debian `kcat -X test.mock.num.brokers=N`: the Kafka protocol as librdkafka serves it,
// not Apache Kafka) — when KAFKA_URL is set (.ci/run starts a mock cluster and sets it). Each
// test uses a topic of its own. The outage suite runs on a one-broker mock of its own, every
// connection made through a TCP proxy (kafkajs's socketFactory), so cutting the proxy cuts the
// whole cluster off, as a pulled cable would.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ISocketFactory } from "kafkajs";
import net from "node:net";
import { KafkaBus, parseKafkaUrl } from "../../src/events/kafka.ts";
import { silentLogger } from "../../src/log.ts";
import { busConformance } from "./bus-conformance.ts";
import { durableSubscriberTest } from "./durable-conformance.ts";
import { busOutageTest } from "./outage-conformance.ts";
import type { OutboxBus } from "../../src/events/outbox-bus.ts";
import { engineUrl } from "../support/engines.ts";
import { startKafkaMock, type KafkaMock } from "../support/kafka-mock.ts";
import { behindOutbox } from "../support/outbox-bus.ts";
import { waitFor } from "../support/wait.ts";

const url = engineUrl("KAFKA_URL", "Kafka event bus tests (librdkafka mock cluster)", "kafka://127.0.0.1:9092 — .ci/run starts `kcat -X test.mock.num.brokers=3` and sets it");

test("a Kafka URL names one or more brokers; anything else is refused with the form to use", () => {
  expect(parseKafkaUrl("kafka://127.0.0.1:9092,broker-2:9093")).toEqual(["127.0.0.1:9092", "broker-2:9093"]);
  for (const bad of ["kafka://", "kafka://host", "nats://host:4222", "kafka://host:port"]) expect(() => parseKafkaUrl(bad)).toThrow("kafka://host:port[,host:port…]");
});

if (url) {
  let n = 0;
  const topic = () => `backroom.test.${process.pid}.${++n}`;
  busConformance("kafka (mock cluster)", () => {
    const t = topic();
    return KafkaBus.connect(url, { logger: silentLogger, topic: t });
  }, { maxEventBytes: 1_000_000 });

  test("kafka: events cross processes' buses with our patterns (`*` one word, `>` the rest), by the type header", async () => {
    const t = topic();
    const [a, b] = await Promise.all([KafkaBus.connect(url, { logger: silentLogger, topic: t }), KafkaBus.connect(url, { logger: silentLogger, topic: t })]);
    try {
      const got: string[] = [];
      b.subscribe("store7.order.*", (e) => void got.push(e.type));
      b.subscribe("store7.job.>", (e) => void got.push(e.type));
      await b.ready();
      await a.publish("store7.order.created", {});
      await a.publish("store7.job.send_receipt.completed", {});
      await a.publish("store7.order.line.added", {}); // `*` is one word: not delivered to order.*
      // Each subscription is a consumer of its own, delivering at its own pace: a marker for each
      // (published last, in the same partition) says that subscription has seen all before it.
      await a.publish("store7.order.marker", {});
      await a.publish("store7.job.marker", {});
      await waitFor(() => got.includes("store7.order.marker") && got.includes("store7.job.marker"), 10_000, "both subscriptions' marker events");
      expect(got.sort()).toEqual(["store7.job.marker", "store7.job.send_receipt.completed", "store7.order.created", "store7.order.marker"]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 30_000);

  const durableTopic = `backroom.durable.${process.pid}`;
  let generation = 0;
  durableSubscriberTest("kafka (mock cluster)", {
    // A short session: the mock hands a durable group to its next member only after it (a
    // real Kafka refuses less than 6 s).
    open: () => KafkaBus.connect(url, { logger: silentLogger, topic: `${durableTopic}.${generation}`, groupPrefix: `backroom.${process.pid}.${generation}.`, sessionTimeoutMs: 3_000 }),
    subscribeDurable: (bus, pattern, handler) => bus.subscribe(pattern, handler, { durable: "head-office" }),
    // A fresh topic and group for the next test (the mock forgets everything when it stops).
    cleanup: async () => void generation++,
  });
}

// The outage suite needs a cluster it can cut off: a one-broker mock of its own.
if (url) {
  let mock: KafkaMock | null = null;
  beforeAll(async () => void (mock = await startKafkaMock(1)));
  afterAll(() => mock?.stop());
  let proxyPort = 0;
  /** Every connection the bus makes goes to the proxy, which forwards it to the mock's one broker. */
  const throughProxy: ISocketFactory = ({ onConnect }) => {
    const socket = net.connect({ host: "127.0.0.1", port: proxyPort }, onConnect);
    socket.setKeepAlive(true, 60_000);
    return socket;
  };
  let outageRun = 0;
  busOutageTest("kafka (mock cluster, behind the outbox)", {
    get port() {
      return mock!.ports[0]!;
    },
    open(port) {
      proxyPort = port;
      return behindOutbox(KafkaBus.connect(`kafka://127.0.0.1:${port}`, { logger: silentLogger, sessionTimeoutMs: 3_000, topic: `backroom.outage.${process.pid}.${++outageRun}`, socketFactory: throughProxy }), "Kafka");
    },
    keepsEventsPublishedDuring: true,
    subscribeDurable: (bus, pattern, handler) => void (bus as OutboxBus).subscribe(pattern, handler, { durable: `outage-${outageRun}` }),
  });
}
