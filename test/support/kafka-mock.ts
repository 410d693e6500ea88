// A Kafka cluster for tests: librdkafka's MOCK cluster, which Debian's `kcat` starts with
// `-X test.mock.num.brokers=N` and serves on 127.0.0.1 while kcat runs (a consumer of a topic
// nobody writes keeps it running). It speaks the Kafka protocol as librdkafka implements it; it
// is not Apache Kafka. Its brokers take random ports, printed on stderr as bootstrap.servers.
import { spawnCommand, type Child } from "./child.ts";
import { waitFor } from "./wait.ts";

export interface KafkaMock {
  /** kafka://127.0.0.1:p1,127.0.0.1:p2,… */
  url: string;
  ports: number[];
  /** Stops the cluster (SIGKILL: it keeps nothing anyway) and waits for it to go. */
  stop(): Promise<void>;
}

export const KCAT = Bun.which("kcat");

export async function startKafkaMock(brokers = 1): Promise<KafkaMock> {
  if (!KCAT) throw new Error("kcat is not installed (apt-get install kcat): it runs librdkafka's mock Kafka cluster");
  const child: Child = spawnCommand([KCAT, "-X", `test.mock.num.brokers=${brokers}`, "-X", "debug=mock", "-b", "localhost:1", "-C", "-t", "keepalive", "-q"]);
  let servers = "";
  await waitFor(async () => {
    if (child.proc.exitCode !== null) throw new Error(`kcat exited (${child.proc.exitCode}): ${await child.errors()}`);
    servers = /bootstrap\.servers=(\S+)/.exec(await child.errors())?.[1] ?? "";
    return servers !== "";
  }, 10_000, "the mock cluster's bootstrap.servers line");
  return {
    url: `kafka://${servers}`,
    ports: servers.split(",").map((s) => Number(s.split(":").at(-1))),
    async stop() {
      child.proc.kill("SIGKILL");
      await child.proc.exited;
    },
  };
}
