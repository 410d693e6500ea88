// The dashboard in a real browser (Debian's chromium driven by playwright-core): sign in, see
// an order's job appear and succeed without reloading, retry a dead job from its page, cancel
// a queued one. Screenshots go to test/artifacts/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { SMTPServer } from "smtp-server";
import { killChildren, spawnBun, type Child } from "../support/child.ts";
import { tempDir } from "../support/temp.ts";
import { deferred, waitFor } from "../support/wait.ts";

const executablePath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => Bun.file(p).size > 0);
if (!executablePath) console.warn("SKIPPED: dashboard browser tests (install Debian's chromium; .ci/run does)");

describe.skipIf(!executablePath)("dashboard", () => {
  const ARTIFACTS = "test/artifacts";
  let tmp: ReturnType<typeof tempDir>;
  let server: Child;
  let base: string;
  let browser: Browser;
  let page: Page;
  let smtp: SMTPServer;
  const socketUrls: string[] = [];
  const cspViolations: string[] = [];
  const admin = { authorization: "Bearer dev-admin-token", "content-type": "application/json" };
  const api = async (path: string, init: RequestInit = {}) => (await fetch(`${base}${path}`, { ...init, headers: { ...admin, ...init.headers } })).json() as Promise<any>;
  const order = async () => {
    const book = (await api("/api/books?limit=1")).data[0];
    return (await api("/api/orders", { method: "POST", headers: { authorization: "Bearer dev-ana-token" }, body: JSON.stringify({ lines: [{ book_id: book.id, quantity: 1 }] }) })).data as { order_id: string; job_id: string };
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    tmp = tempDir();
    smtp = new SMTPServer({ authOptional: true, disabledCommands: ["STARTTLS"], logger: false, onData: (stream, _s, done) => (stream.resume(), stream.on("end", () => done())) });
    await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
    const smtpPort = (smtp.server.address() as { port: number }).port;
    server = spawnBun("src/main.ts", ["serve", "--port", "0", "--db", tmp.file("shop.db"), "--dev", "--smtp", `smtp://127.0.0.1:${smtpPort}`, "--log-level", "error"]);
    base = /(http:\/\/\S+)/.exec(await server.waitForLine(/^Backroom listening on /))![1]!;
    browser = await chromium.launch({ executablePath, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
    page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
    // Well inside each test's 30 s, so a step that never happens fails with its own name.
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (error) => console.error("dashboard page error:", error));
    page.on("websocket", (ws) => socketUrls.push(ws.url()));
    page.on("console", (message) => /Content Security Policy/i.test(message.text()) && cspViolations.push(message.text()));
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    if (server && server.proc.exitCode !== null) console.error(`the server died during the tests (${server.proc.exitCode}):\n${await server.errors()}`);
    server?.proc.kill("SIGTERM");
    await server?.proc.exited;
    await killChildren();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    tmp?.remove();
  });

  test("sign in, and an order's job appears and turns succeeded live", async () => {
    await page.goto(`${base}/admin`);
    await page.getByLabel("Admin API token").fill("dev-admin-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
    // Signed in by message: the token is in no URL (URLs reach proxy and server logs).
    expect(socketUrls.length).toBeGreaterThan(0);
    for (const url of socketUrls) expect(url).toBe(`${base.replace("http", "ws")}/api/realtime`);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-overview.png` });
    await page.getByRole("link", { name: "Jobs", exact: true }).click();
    await page.getByRole("heading", { name: "Jobs" }).waitFor();
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    const { job_id } = await order();
    const row = page.getByRole("row").filter({ hasText: job_id });
    await row.waitFor({ timeout: 5_000 }); // appeared without a reload
    expect(await page.evaluate(() => (globalThis as unknown as { marker: number }).marker)).toBe(42);
    await row.getByText("succeeded", { exact: true }).waitFor({ timeout: 10_000 }); // turned succeeded, live
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-jobs.png` });
    expect(cspViolations).toEqual([]);
  }, 30_000);

  test("the page is served with a strict security policy, and works under it", async () => {
    const response = await fetch(`${base}/admin`);
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(response.headers.get("content-security-policy")).not.toContain("unsafe-inline");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    // Everything the dashboard did so far ran under that policy without a violation.
    expect(cspViolations).toEqual([]);
  });

  test("the API docs page renders under its security policy", async () => {
    const docs = await browser.newPage();
    const violations: string[] = [];
    docs.on("console", (message) => /Content Security Policy/i.test(message.text()) && violations.push(message.text()));
    try {
      const response = await docs.goto(`${base}/docs`);
      expect(response!.headers()["content-security-policy"]).toContain("default-src 'none'");
      await docs.getByText("/api/job_statuses/{id}", { exact: true }).first().waitFor({ timeout: 10_000 });
      expect(await docs.locator("details").count()).toBeGreaterThan(10);
      await docs.screenshot({ path: `${ARTIFACTS}/docs.png` });
      expect(violations).toEqual([]);
    } finally {
      await docs.close();
    }
  }, 30_000);

  test("retry a dead job from its page", async () => {
    // A receipt for an order that does not exist dies at once: an easy dead job to retry.
    await api("/api/schedules", { method: "POST", body: JSON.stringify({ name: "orphan", schedule: "0 0 1 1 *", type: "send_receipt", payload: { order_id: "no-such-order" } }) });
    const { job_id } = (await api("/api/schedules/orphan/run", { method: "POST" })).data;
    await waitFor(async () => (await api(`/api/job_statuses/${job_id}`)).data.status === "dead", 10_000, "the job to die");
    const before = (await api(`/api/job_statuses/${job_id}`)).data.updated_at;
    await page.goto(`${base}/admin#/jobs/${job_id}`);
    await page.getByRole("heading", { name: `Job ${job_id}` }).waitFor();
    await page.getByText("order no-such-order does not exist", { exact: false }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-dead-job.png` });
    await page.getByRole("button", { name: "Retry" }).click();
    await page.getByRole("status").filter({ hasText: "Job retried" }).waitFor();
    await waitFor(async () => (await api(`/api/job_statuses/${job_id}`)).data.updated_at !== before, 5_000, "the job to run again");
  }, 30_000);

  test("a list that answers late does not draw over the job page opened since", async () => {
    const { job_id } = await order();
    const heading = page.getByRole("heading", { name: `Job ${job_id}` });
    const listAsked = deferred();
    const releaseList = deferred();
    await page.route(/\/api\/job_statuses\?/, async (route) => {
      listAsked.resolve();
      await releaseList.promise;
      await route.continue();
    });
    try {
      // Hash changes, as the links make: one page, so the list's render is still in flight.
      await page.evaluate(`location.hash = "#/jobs"`);
      await listAsked.promise;
      await page.evaluate(`location.hash = "#/jobs/${job_id}"`);
      await heading.waitFor();
      // Record every page drawn from here on: a live refresh may redraw the job page later,
      // which would hide a moment with the list on top of it.
      await page.evaluate(`(() => {
        const main = document.getElementById("main");
        window.drawn = [];
        new MutationObserver(() => drawn.push(main.querySelector("h2")?.textContent ?? "")).observe(main, { childList: true });
      })()`);
      const listAnswered = page.waitForEvent("requestfinished", (r) => r.url().includes("/api/job_statuses?"));
      releaseList.resolve();
      await listAnswered;
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100))); // the late render's turn
      expect(await heading.isVisible()).toBe(true);
      expect(await page.evaluate("drawn")).not.toContain("Jobs");
    } finally {
      releaseList.resolve();
      await page.unrouteAll();
    }
  }, 30_000);

  test("cancel a queued job from its page", async () => {
    // A webhook to a receiver that is down: its delivery waits between ever longer retries.
    await api("/api/webhook_subscriptions", { method: "POST", body: JSON.stringify({ url: "http://127.0.0.1:9/hook", secret: "a-long-enough-secret", pattern: "order.created" }) });
    await order();
    let delivery: { id: string } | undefined;
    await waitFor(async () => {
      delivery = (await api("/api/job_statuses?type=webhook_delivery&status=failed")).data[0];
      return Boolean(delivery);
    }, 15_000, "a delivery waiting for its retry");
    await page.goto(`${base}/admin#/jobs/${delivery!.id}`);
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("status").filter({ hasText: "Job cancelled" }).waitFor();
    await page.getByText("cancelled", { exact: true }).waitFor();
    expect((await api(`/api/job_statuses/${delivery!.id}`)).data.status).toBe("cancelled");
    await page.goto(`${base}/admin#/schedules`);
    await page.getByRole("heading", { name: "Schedules" }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-schedules.png` });
  }, 30_000);
});
