// Cross-process wake-ups for the Redis queue: the scripts PUBLISH on the queue's channel, and
// every process with an idle worker is subscribed to it. A subscribed connection can run no
// other command, so this is a connection of its own, subscribed only while anyone listens.
//
// Bun's client restores a dropped connection but not its subscriptions, and after its last
// retry it stays down until told to connect: so on a reconnect, or a lost connection, this
// drops the connection and subscribes again on a fresh one (after a second when Redis is
// down). A wake-up lost meanwhile costs only latency: workers also poll. Never throws.
import { RedisClient, type RedisOptions } from "bun";

const RETRY_MS = 1_000;

export class RedisWakeups {
  private client: RedisClient | null = null;
  private wanted = false;
  private subscribed = false;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly deliver = () => this.onMessage();

  constructor(
    private readonly url: string,
    private readonly options: RedisOptions,
    private readonly channel: string,
    private readonly onMessage: () => void,
  ) {}

  /** Subscribes (true) or unsubscribes (false); changes are applied one at a time. */
  want(wanted: boolean): void {
    this.wanted = wanted;
    this.sync();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.client) this.drop(this.client);
  }

  private sync(): void {
    this.chain = this.chain.then(() => this.apply()).catch(() => this.renew(this.client, RETRY_MS));
  }

  private async apply(): Promise<void> {
    if (this.closed || this.wanted === this.subscribed) return;
    const client = this.connection();
    if (this.wanted) {
      await client.subscribe(this.channel, this.deliver);
      this.subscribed = true;
    } else {
      this.subscribed = false;
      await client.unsubscribe(this.channel);
    }
  }

  private connection(): RedisClient {
    if (this.client) return this.client;
    const client = new RedisClient(this.url, this.options);
    let connects = 0;
    client.onconnect = () => {
      if (++connects > 1) this.renew(client, 0); // reconnected without our subscription
    };
    client.onclose = () => this.renew(client, RETRY_MS);
    this.client = client;
    return client;
  }

  /** Replaces a connection that lost its subscription, and subscribes again if still wanted. */
  private renew(client: RedisClient | null, delayMs: number): void {
    if (!client || client !== this.client) return;
    this.drop(client);
    if (this.closed || !this.wanted || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.sync();
    }, delayMs);
    this.retryTimer.unref?.();
  }

  private drop(client: RedisClient): void {
    client.onconnect = null;
    client.onclose = null;
    client.close();
    if (this.client === client) {
      this.client = null;
      this.subscribed = false;
    }
  }
}
