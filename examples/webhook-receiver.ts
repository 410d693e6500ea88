// A webhook receiver that verifies Backroom's deliveries with the Standard Webhooks library and
// drops duplicates by webhook-id (deliveries are at-least-once).
import { Webhook } from "standardwebhooks";

export function startReceiver(secret: string, onEvent: (event: { id: string; type: string; data: unknown }) => void, port = 0) {
  const verifier = new Webhook(secret);
  const seen = new Set<string>();
  return Bun.serve({
    port,
    hostname: "127.0.0.1",
    async fetch(request) {
      const body = await request.text();
      let event: { id: string; type: string; data: unknown };
      try {
        event = verifier.verify(body, Object.fromEntries(request.headers)) as typeof event;
      } catch {
        return new Response("bad signature", { status: 401 });
      }
      const id = request.headers.get("webhook-id")!;
      if (!seen.has(id)) {
        seen.add(id);
        onEvent(event);
      }
      return new Response(null, { status: 204 });
    },
  });
}
