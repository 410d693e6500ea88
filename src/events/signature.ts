// Webhook signatures, Standard Webhooks style (https://www.standardwebhooks.com): the sender
// signs `{id}.{timestamp}.{body}` with HMAC-SHA256 and sends `webhook-id`, `webhook-timestamp`
// (seconds) and `webhook-signature: v1,<base64>`; the id lets receivers drop duplicates, the
// timestamp lets them refuse replays. Secrets are `whsec_<base64 key>` (any other string is
// used as is). `verifyWebhook` is exported for receivers: constant-time, with a tolerance.
// Bun.CryptoHasher and the global crypto, not node:crypto, whose import costs a start ~8 ms.

export class WebhookVerificationError extends Error {
  override name = "WebhookVerificationError";
}

export type SignedHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

function key(secret: string): Buffer {
  return secret.startsWith("whsec_") ? Buffer.from(secret.slice(6), "base64") : Buffer.from(secret, "utf8");
}

export function signature(secret: string, id: string, timestampSeconds: number, body: string): string {
  return new Bun.CryptoHasher("sha256", key(secret)).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
}

/**
 * Signs with every secret given — during a rotation the old and the new one — so receivers
 * holding either accept the delivery. A subscription stores several secrets space-separated.
 */
export function signWebhook(secrets: string | readonly string[], id: string, body: string, now = Date.now()): SignedHeaders {
  const timestamp = Math.floor(now / 1000);
  const signatures = splitSecrets(secrets).map((secret) => `v1,${signature(secret, id, timestamp, body)}`);
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signatures.join(" ") };
}

export function splitSecrets(secrets: string | readonly string[]): string[] {
  return [secrets].flat().flatMap((s) => s.split(/\s+/)).filter((s) => s !== "");
}

/**
 * The seeds' header: `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body>`. The key is the
 * secret as written (its UTF-8 bytes, a `whsec_` prefix included: a receiver built for the seeds
 * knows nothing of Standard Webhooks' encoding and HMACs with the string it was given). One
 * signature only, with the first secret: during a rotation that is the new one.
 */
export function maniflexSignature(secrets: string, body: string): string {
  return `sha256=${new Bun.CryptoHasher("sha256", Buffer.from(splitSecrets(secrets)[0]!, "utf8")).update(body).digest("hex")}`;
}

/**
 * Checks a delivery; returns the parsed body or throws WebhookVerificationError. Accepts any of
 * several secrets (rotation) and any of several `v1,` signatures in the header.
 */
export function verifyWebhook(
  secrets: string | readonly string[],
  headers: Headers | Record<string, string | undefined>,
  body: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): unknown {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name]) ?? null;
  const id = get("webhook-id");
  const timestamp = get("webhook-timestamp");
  const header = get("webhook-signature");
  if (!id || !timestamp || !header) throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature");
  const seconds = Number(timestamp);
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (!Number.isInteger(seconds) || Math.abs(now - seconds) > tolerance) throw new WebhookVerificationError("timestamp outside the tolerance (replayed or clock skew)");
  const given = header.split(" ").filter((s) => s.startsWith("v1,")).map((s) => Buffer.from(s.slice(3), "base64"));
  for (const secret of splitSecrets(secrets)) {
    const expected = Buffer.from(signature(secret, id, seconds, body), "base64");
    if (given.some((g) => g.length === expected.length && crypto.timingSafeEqual(g, expected))) return JSON.parse(body);
  }
  throw new WebhookVerificationError("no matching signature");
}
