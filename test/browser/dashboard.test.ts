// The dashboard in a real browser (Debian's chromium driven by playwright-core): sign in, see
// an order's job appear and succeed without reloading, retry a dead job from its page, cancel
// a queued one, find a job by id prefix, retry exactly the selected dead jobs, see every
// attempt of a failing job, pause and resume a queue, read and redeliver webhook deliveries,
// move with the keyboard; every page at 1024×768 and 390×844, light and dark, without
// sideways scrolling and without a CSP violation. Screenshots go to test/artifacts/.
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
  /** Opens an address of the dashboard and waits until the page shows it (a hash change
   * within the page draws after its data arrives; until then the last page is still there). */
  const open = async (hash: string, tab: Page = page) => {
    await tab.goto(`${base}/admin${hash}`);
    await tab.locator(`main[data-view="${hash}"]`).waitFor();
  };
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
    await open(`#/jobs/${job_id}`);
    await page.getByRole("heading", { name: `Job ${job_id}` }).waitFor();
    await page.getByText("order no-such-order does not exist", { exact: false }).first().waitFor();
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
    await open(`#/jobs/${delivery!.id}`);
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("status").filter({ hasText: "Job cancelled" }).waitFor();
    await page.getByText("cancelled", { exact: true }).waitFor();
    expect((await api(`/api/job_statuses/${delivery!.id}`)).data.status).toBe("cancelled");
    await open("#/schedules");
    await page.getByRole("heading", { name: "Schedules" }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-schedules.png` });
  }, 30_000);

  test("search by job id prefix finds the job, and by part of its type", async () => {
    const { job_id } = await order();
    await open("#/jobs");
    await page.getByRole("heading", { name: "Jobs" }).waitFor();
    await page.keyboard.press("/"); // focuses the search box
    expect(await page.evaluate("document.activeElement?.id")).toBe("search");
    const prefix = job_id.slice(0, 18).toLowerCase(); // typed in any case
    await page.keyboard.type(prefix);
    await page.keyboard.press("Enter");
    await page.locator(`input#search[value="${prefix}"]`).waitFor(); // the list drawn for the search
    const rows = page.locator("tbody tr[data-row]");
    // Jobs enqueued in the same millisecond share a long prefix (ULIDs count up): the job is
    // there, and every job listed starts with the prefix.
    const found = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-row")!));
    expect(found).toContain(job_id);
    for (const id of found) expect(id.startsWith(prefix.toUpperCase())).toBe(true);
    expect(found.length).toBeLessThan(5);
    // A prefix no job has: no row.
    await open(`#/jobs?id=${job_id.slice(0, 10)}ZZZZZZZZZZZZZZZZ`);
    await page.getByText("No jobs match.").waitFor();
    // Part of a type: every row listed has it.
    await open("#/jobs?type=ceip");
    await page.locator(`tr[data-row="${job_id}"]`).waitFor();
    for (const type of await page.locator("tbody td.type").allTextContents()) expect(type).toContain("ceip");
  }, 30_000);

  test("select 3 of 10 dead jobs, retry: exactly those 3 run again", async () => {
    await api("/api/schedules", { method: "POST", body: JSON.stringify({ name: "orphans", schedule: "0 0 1 1 *", type: "send_receipt", payload: { order_id: "no-such-order" } }) });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await api("/api/schedules/orphans/run", { method: "POST" })).data.job_id);
    const states = async () => Promise.all(ids.map(async (id) => (await api(`/api/job_statuses/${id}`)).data as { status: string; started_at: string; attempts: number }));
    await waitFor(async () => (await states()).every((s) => s.status === "dead"), 15_000, "ten dead jobs");
    const before = await states();
    const chosen = [ids[1]!, ids[4]!, ids[8]!];
    await open("#/jobs?status=dead&type=send_receipt");
    for (const id of ids) await page.locator(`tr[data-row="${id}"]`).waitFor();
    for (const id of chosen) await page.getByLabel(`Select job ${id}`).check();
    await page.getByText("3 selected").waitFor();
    const confirmed: string[] = [];
    page.once("dialog", (dialog) => (confirmed.push(dialog.message()), dialog.accept()));
    await page.getByRole("button", { name: "Retry selected" }).click();
    await page.getByRole("status").filter({ hasText: "3 job(s) retried" }).waitFor();
    expect(confirmed[0]).toContain("3 selected job(s)");
    // Each chosen job ran again (and died again: its order still does not exist).
    await waitFor(async () => (await states()).every((s, i) => !chosen.includes(ids[i]!) || (s.status === "dead" && s.started_at !== before[i]!.started_at)), 15_000, "the three to run again");
    const after = await states();
    ids.forEach((id, i) => {
      if (chosen.includes(id)) expect(after[i]!.started_at).not.toBe(before[i]!.started_at);
      else expect(after[i]).toEqual(before[i]!);
    });
  }, 45_000);

  test("j and k move between rows with a visible focus, Enter opens the row", async () => {
    await open("#/jobs");
    await page.locator("tbody tr[data-row]").nth(1).waitFor();
    const focused = () => page.evaluate("document.activeElement?.dataset.row ?? null");
    const rows = await page.locator("tbody tr[data-row]").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-row")!));
    await page.keyboard.press("j");
    expect(await focused()).toBe(rows[0]!);
    await page.keyboard.press("j");
    expect(await focused()).toBe(rows[1]!);
    const outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle");
    expect(outline).toBe("solid");
    await page.keyboard.press("k");
    expect(await focused()).toBe(rows[0]!);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: `Job ${rows[0]}` }).waitFor();
  }, 30_000);

  test("webhooks: each delivery's event and last HTTP status, redeliver, disable and edit a subscription", async () => {
    let hits = 0;
    const receiver = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => (hits++, new Response("down for maintenance", { status: 503 })) });
    try {
      const sub = (await api("/api/webhook_subscriptions", { method: "POST", body: JSON.stringify({ url: `http://127.0.0.1:${receiver.port}/hook`, secret: "a-secret-of-sixteen+", pattern: "book.updated" }) })).data;
      const book = (await api("/api/books?limit=1")).data[0];
      await api(`/api/books/${book.id}`, { method: "PATCH", body: JSON.stringify({ title: book.title }) });
      let delivery: { id: string } | undefined;
      await waitFor(async () => {
        delivery = (await api("/api/admin/webhook_deliveries?limit=20")).data.find((d: { event_type: string; attempts: number }) => d.event_type === "book.updated" && d.attempts >= 3);
        return Boolean(delivery);
      }, 20_000, "a delivery refused three times");
      // Its page: three attempts, each with the receiver's refusal.
      await open(`#/jobs/${delivery!.id}`);
      const attempts = page.locator("ol.timeline > li");
      await attempts.nth(2).waitFor();
      for (let i = 0; i < 3; i++) {
        await expect(attempts.nth(i).textContent()).resolves.toContain(`Attempt ${i + 1}`);
        await expect(attempts.nth(i).textContent()).resolves.toContain("receiver answered 503");
      }
      await open("#/webhooks");
      const row = page.locator(`tr[data-row="${delivery!.id}"]`).first();
      await row.waitFor();
      expect(await row.textContent()).toContain("book.updated");
      expect(await row.locator("td.num").nth(1).textContent()).toBe("503");
      await row.getByRole("button", { name: `Redeliver ${delivery!.id}` }).click();
      await page.getByRole("status").filter({ hasText: "Redelivering as" }).waitFor();
      const redelivered = (await page.getByRole("status").textContent())!.replace("Redelivering as ", "");
      expect((await api(`/api/admin/jobs/${redelivered}`)).data.payload).toEqual((await api(`/api/admin/jobs/${delivery!.id}`)).data.payload);
      // The subscription: disable, then edit its pattern; the secret stays as it was.
      const subRow = page.locator(`tr[data-row="${sub.id}"]`);
      await subRow.getByRole("button", { name: "Disable" }).click();
      await subRow.getByText("disabled").waitFor();
      expect((await api(`/api/webhook_subscriptions/${sub.id}`)).data.active).toBe(false);
      await subRow.getByRole("button", { name: "Edit" }).click();
      const form = page.getByRole("form", { name: `Edit subscription ${sub.url}` });
      await form.getByLabel("Pattern").fill("book.*");
      await form.getByRole("button", { name: "Save" }).click();
      await page.getByRole("status").filter({ hasText: "Subscription saved" }).waitFor();
      const saved = (await api(`/api/webhook_subscriptions/${sub.id}`)).data;
      expect(saved).toMatchObject({ pattern: "book.*", active: false, secret_hint: sub.secret_hint });
      await page.screenshot({ path: `${ARTIFACTS}/dashboard-webhooks.png` });
      expect((await fetch(`${base}/api/webhook_subscriptions/${sub.id}`, { method: "DELETE", headers: admin })).status).toBe(204);
    } finally {
      receiver.stop(true);
    }
  }, 45_000);

  test("pause a queue: its jobs wait while another queue's run; resume: they run", async () => {
    // An app of two queues (the bookstore puts every job in "default").
    const desk = spawnBun("test/browser/fixtures/queue-desk.ts", ["serve", "--port", "0", "--db", tmp.file("desk.db"), "--dev", "--log-level", "error"]);
    const tab = await browser.newPage({ viewport: { width: 1024, height: 768 } });
    tab.setDefaultTimeout(10_000);
    const violations: string[] = [];
    tab.on("console", (message) => /Content Security Policy/i.test(message.text()) && violations.push(message.text()));
    try {
      const deskBase = /(http:\/\/\S+)/.exec(await desk.waitForLine(/listening on /))![1]!;
      const deskApi = async (path: string, body?: unknown) => (await fetch(`${deskBase}${path}`, { method: body ? "POST" : "GET", headers: admin, ...(body ? { body: JSON.stringify(body) } : {}) })).json() as Promise<any>;
      const states = async (ids: string[]) => Promise.all(ids.map(async (id) => (await deskApi(`/api/job_statuses/${id}`)).data.status as string));
      await tab.goto(`${deskBase}/admin#/queues`);
      await tab.getByLabel("Admin API token").fill("dev-admin-token");
      await tab.getByRole("button", { name: "Sign in" }).click();
      const mail = tab.locator('tr[data-queue="mail"]');
      await mail.waitFor();
      expect(await tab.locator('tr[data-queue="reports"] td[data-label="In use / limit"]').textContent()).toBe("0 / 1");
      await mail.getByRole("button", { name: "Pause queue mail" }).click();
      await tab.getByRole("status").filter({ hasText: "Queue mail paused" }).waitFor();
      await mail.getByText("paused", { exact: true }).waitFor();
      expect((await deskApi("/api/queues")).data.find((q: { name: string }) => q.name === "mail").paused).toBe(true);
      // Mail first, then reports: the reports run while the mail, enqueued before them, waits.
      const mails = (await deskApi("/api/errands", { kind: "send_mail", count: 3 })).data.job_ids as string[];
      const reports = (await deskApi("/api/errands", { kind: "build_report", count: 3 })).data.job_ids as string[];
      await waitFor(async () => (await states(reports)).every((s) => s === "succeeded"), 15_000, "the reports to run");
      expect(await states(mails)).toEqual(["enqueued", "enqueued", "enqueued"]);
      await mail.locator('td[data-label="Enqueued"]').filter({ hasText: /^3$/ }).waitFor(); // shown live
      await tab.screenshot({ path: `${ARTIFACTS}/dashboard-queue-paused.png` });
      await mail.getByRole("button", { name: "Resume queue mail" }).click();
      await tab.getByRole("status").filter({ hasText: "Queue mail resumed" }).waitFor();
      await waitFor(async () => (await states(mails)).every((s) => s === "succeeded"), 15_000, "the mail to run once resumed");
      await mail.locator('td[data-label="Succeeded"]').filter({ hasText: /^3$/ }).waitFor();
      // The overview's throughput per queue over the last hour.
      await tab.getByRole("link", { name: "Overview" }).click();
      const hour = tab.getByRole("table", { name: "Queues now and over the last hour" });
      for (const name of ["mail", "reports"]) {
        await hour.getByRole("row").filter({ hasText: name }).locator('td[data-label="Succeeded (1 h)"]').filter({ hasText: /^3$/ }).waitFor();
      }
      expect(violations).toEqual([]);
    } finally {
      await tab.close();
      desk.proc.kill("SIGTERM");
      await desk.proc.exited;
    }
  }, 60_000);

  test("every page fits 1024×768 and 390×844, light and dark, without sideways scrolling", async () => {
    const someJob = (await api("/api/job_statuses?sort=-id&limit=1")).data[0].id as string;
    const pages = [["overview", "#/", "Overview"], ["jobs", "#/jobs", "Jobs"], ["job", `#/jobs/${someJob}`, `Job ${someJob}`], ["queues", "#/queues", "Queues"], ["schedules", "#/schedules", "Schedules"], ["webhooks", "#/webhooks", "Webhooks"]] as const;
    try {
      for (const [width, height] of [[1024, 768], [390, 844]] as const) {
        await page.setViewportSize({ width, height });
        for (const colorScheme of ["light", "dark"] as const) {
          await page.emulateMedia({ colorScheme });
          for (const [name, hash, heading] of pages) {
            await open(hash);
            await page.getByRole("heading", { name: heading, exact: true }).waitFor();
            await page.locator("main table, main dl").first().waitFor();
            const { scrollWidth, innerWidth } = (await page.evaluate("({ scrollWidth: document.documentElement.scrollWidth, innerWidth })")) as { scrollWidth: number; innerWidth: number };
            if (scrollWidth > innerWidth) console.error(`${name} at ${width} px (${colorScheme}) is ${scrollWidth} px wide`);
            expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
            await page.screenshot({ path: `${ARTIFACTS}/dashboard-${name}-${width}-${colorScheme}.png`, fullPage: true });
          }
        }
      }
      expect(cspViolations).toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1024, height: 768 });
      await page.emulateMedia({ colorScheme: "light" });
    }
  }, 120_000);
});
