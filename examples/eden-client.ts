// A typed front-end client with Eden's treaty: check a device in at the repair desk, then poll
// the job that mails the customer. `AppType<typeof repairDesk>` is the type of the app's real
// Elysia instance, so every route, body and answer here is checked against the server's own
// schemas; errors are our envelope. The same works for any app defined with defineApp.
import { treaty } from "@elysiajs/eden";
import type { AppType } from "backroom";
import type { repairDesk } from "./repair-desk/app.ts";

export async function checkInAndWait(baseUrl: string, token: string): Promise<string> {
  // parseDate off: times stay the ISO-8601 strings the types say they are.
  const api = treaty<AppType<typeof repairDesk>>(baseUrl, { parseDate: false, headers: { authorization: `Bearer ${token}` } });
  const answer = await api.api.check_ins.post({ customer_email: "ana@example.com", device: "Phone X", fault: "cracked screen" });
  if (answer.error) throw new Error(`check-in refused: ${answer.error.value.error.code} ${answer.error.value.error.message}`);
  const jobId: string = answer.data.data.job_id;
  for (let i = 0; i < 100; i++) {
    const { data } = await api.api.job_statuses({ id: jobId }).get();
    const status = data?.data.status; // typed: "enqueued" | "running" | … | "cancelled"
    if (status === "succeeded" || status === "dead" || status === "cancelled") return status;
    await Bun.sleep(50);
  }
  throw new Error("the confirmation job did not finish in time");
}
