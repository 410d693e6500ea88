// `backroom serve` as a child process, for tests over a real socket: spawn children that are
// all killed afterwards, read the URL a server listens on, and place an order and wait for its
// receipt (the flow that makes every file the till writes).
import { killChildren, spawnBun, type Child } from "./child.ts";
import { waitFor } from "./wait.ts";

/** Spawns registered children; killAll (call it from afterEach) is the registry's killChildren. */
export function childProcesses() {
  return {
    spawn: (script: string, args: string[]): Child => spawnBun(script, args),
    killAll: killChildren,
  };
}

/** The URL from the server's "Backroom listening on …" line. */
export async function listeningUrl(child: Child): Promise<string> {
  return /(http:\/\/\S+)/.exec(await child.waitForLine(/^Backroom listening on /))![1]!;
}

/** Orders the first book as a --dev user and waits until its receipt job has succeeded; returns the job id. */
export async function orderAndAwaitReceipt(url: string, token = "dev-ana-token"): Promise<string> {
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const book = ((await (await fetch(`${url}/api/books?limit=1`)).json()) as { data: { id: string }[] }).data[0]!;
  const placed = await fetch(`${url}/api/orders`, { method: "POST", headers: auth, body: JSON.stringify({ lines: [{ book_id: book.id, quantity: 1 }] }) });
  if (placed.status !== 202) throw new Error(`order answered ${placed.status}: ${await placed.text()}`);
  const { job_id } = ((await placed.json()) as { data: { job_id: string } }).data;
  const status = async () => ((await (await fetch(`${url}/api/job_statuses/${job_id}`, { headers: auth })).json()) as { data: { status: string } }).data.status;
  await waitFor(async () => (await status()) === "succeeded", 10_000, "the receipt job to succeed");
  return job_id;
}
