// A TCP proxy in front of a real server, for outage tests: `down()` cuts every connection and
// refuses new ones (a broker restarting, a cable pulled), `up()` lets them through again.
import type { Socket, TCPSocketListener } from "bun";

interface Side {
  peer: Socket<Side> | null;
  /** Bytes this socket could not take yet (written on its drain). */
  backlog: Uint8Array[];
  /** A client's bytes that arrived before its upstream connection was open. */
  early: Uint8Array[];
}

export interface TcpProxy {
  port: number;
  down(): void;
  up(): void;
  stop(): void;
}

/** `targetPort` may be a function: read at each new connection (a server restarted elsewhere). */
export function tcpProxy(targetPort: number | (() => number), targetHost = "127.0.0.1"): TcpProxy {
  let accepting = true;
  const open = new Set<Socket<Side>>();
  const send = (to: Socket<Side>, bytes: Uint8Array) => {
    if (to.data.backlog.length > 0) return void to.data.backlog.push(bytes);
    const written = to.write(bytes);
    if (written < bytes.length) to.data.backlog.push(bytes.slice(written));
  };
  const flush = (socket: Socket<Side>) => {
    while (socket.data.backlog.length > 0) {
      const bytes = socket.data.backlog[0]!;
      const written = socket.write(bytes);
      if (written < bytes.length) {
        socket.data.backlog[0] = bytes.slice(written);
        return;
      }
      socket.data.backlog.shift();
    }
  };
  const closeBoth = (socket: Socket<Side>) => {
    open.delete(socket);
    const peer = socket.data.peer;
    socket.data.peer = null;
    if (peer) {
      peer.data.peer = null;
      open.delete(peer);
      peer.end();
    }
  };
  const listener: TCPSocketListener<Side> = Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: 0,
    data: { peer: null, backlog: [], early: [] },
    socket: {
      open(client) {
        client.data = { peer: null, backlog: [], early: [] };
        if (!accepting) return void client.end();
        open.add(client);
        void Bun.connect<Side>({
          hostname: targetHost,
          port: typeof targetPort === "function" ? targetPort() : targetPort,
          data: { peer: client, backlog: [], early: [] },
          socket: {
            open(upstream) {
              upstream.data = { peer: client, backlog: [], early: [] };
              if (!open.has(client)) return void upstream.end();
              open.add(upstream);
              client.data.peer = upstream;
              for (const bytes of client.data.early) send(upstream, bytes);
              client.data.early = [];
            },
            data(upstream, bytes) {
              if (upstream.data.peer) send(upstream.data.peer, new Uint8Array(bytes));
            },
            drain: flush,
            close: closeBoth,
            error: closeBoth,
          },
        }).catch(() => client.end());
      },
      data(client, bytes) {
        const copy = new Uint8Array(bytes);
        if (client.data.peer) send(client.data.peer, copy);
        else client.data.early.push(copy);
      },
      drain: flush,
      close: closeBoth,
      error: closeBoth,
    },
  });
  return {
    port: listener.port,
    down() {
      accepting = false;
      for (const socket of [...open]) socket.end();
      open.clear();
    },
    up() {
      accepting = true;
    },
    stop() {
      this.down();
      listener.stop(true);
    },
  };
}
