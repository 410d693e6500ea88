// The pages that hold an admin token (/admin) or describe the API (/docs) are served with a
// strict security policy: only their own inline script and style (by hash), same-origin
// connections, no framing, no sniffing, no Referer. The browser test (test/browser/
// dashboard.test.ts) shows both still work under it.
import { createHash } from "node:crypto";
import { expect, test } from "bun:test";
import { ADMIN_PAGE } from "../../src/api/admin-page.ts";
import { DOCS_PAGE } from "../../src/api/openapi.ts";
import { testApp } from "./support.ts";

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

for (const [path, html] of [["/admin", ADMIN_PAGE], ["/docs", DOCS_PAGE]] as const) {
  test(`${path} sends a Content-Security-Policy allowing only its own script and style, and no framing`, async () => {
    const { app } = testApp();
    const response = await app.handle(new Request(`http://localhost${path}`));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(html);
    const policy = Object.fromEntries(response.headers.get("content-security-policy")!.split(/;\s*/).map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]));
    const script = /<script[^>]*>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(policy).toEqual({
      "default-src": "'none'",
      "script-src": sha256(script),
      "style-src": sha256(style),
      "connect-src": "'self'",
      "img-src": "'self' data:",
      "base-uri": "'none'",
      "form-action": "'none'",
      "frame-ancestors": "'none'",
    });
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
  });
}

test("the dashboard authenticates its WebSocket by message, never with the token in the URL", () => {
  // The page's script is bundled and minified at build time: look for the shapes, not the names.
  expect(ADMIN_PAGE).toContain('/api/realtime`');
  expect(ADMIN_PAGE).toMatch(/type:"auth",token:/);
  expect(ADMIN_PAGE).not.toMatch(/realtime\?token/);
});
