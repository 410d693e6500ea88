// The HTML pages we serve (/admin, /docs) with the headers a page holding an admin token
// needs: a Content-Security-Policy that allows only this page's own inline script and style
// (by SHA-256, computed once from the page text, so no 'unsafe-inline' and no injected
// script runs), requests to this origin only (fetch and the realtime WebSocket), no framing
// (clickjacking), no MIME sniffing, no Referer, and no form submission (the sign-in form is
// handled in script: a form that submitted would put the token in a URL).

const INLINE = /<(script|style)(?:\s[^>]*)?>([\s\S]*?)<\/\1>/g;

/** The security headers of `html`, its inline `<script>` and `<style>` blocks allowed by hash. */
export function pageSecurityHeaders(html: string): Record<string, string> {
  const hashes = { script: [] as string[], style: [] as string[] };
  for (const [, tag, body] of html.matchAll(INLINE)) {
    hashes[tag as "script" | "style"].push(`'sha256-${new Bun.CryptoHasher("sha256").update(body!).digest("base64")}'`);
  }
  const policy = [
    "default-src 'none'",
    `script-src ${hashes.script.join(" ") || "'none'"}`,
    `style-src ${hashes.style.join(" ") || "'none'"}`,
    // CSP 3: 'self' also matches ws:/wss: on this host and port (the realtime socket).
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return {
    "content-security-policy": policy,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
}

/**
 * Answers a fixed page: the headers are computed once, when first asked for (hashing the
 * dashboard's inline script is not a start's work), a fresh Response per request.
 */
export function htmlPage(html: string, headers: Record<string, string> = {}): () => Response {
  let all: Record<string, string> | null = null;
  return () => new Response(html, { headers: (all ??= { "content-type": "text/html; charset=utf-8", ...pageSecurityHeaders(html), ...headers }) });
}
