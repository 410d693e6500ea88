// The ticket export, a sandboxed job handler: it runs in one of the runtime's worker threads,
// not on the thread that answers the front desk — on a shop with years of tickets, building
// the CSV is seconds of CPU no check-in should wait behind. It reads through its own read-only
// connection (readDatabase) and returns plain data by message. Compiled into the binary with
// `compile.ts … --sandbox export-tickets.ts`.
import type { Job, SandboxContext } from "backroom";

export function exportTickets(_job: Job, { db, signal }: SandboxContext) {
  const rows = db!.query("SELECT id, device, status, customer_email FROM tickets ORDER BY id").all() as Record<string, string>[];
  const cell = (value: string) => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const lines = ["id,device,status,customer_email"];
  for (const row of rows) {
    signal.throwIfAborted();
    lines.push([row.id, row.device, row.status, row.customer_email].map((v) => cell(String(v))).join(","));
  }
  const csv = lines.join("\n") + "\n";
  return { output: { tickets: rows.length, bytes: Buffer.byteLength(csv), sha256: new Bun.CryptoHasher("sha256").update(csv).digest("hex") }, mime: "text/csv" };
}
