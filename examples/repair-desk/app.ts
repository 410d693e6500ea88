// A repair shop's front desk, built on Backroom: a device is checked in (a ticket is written
// and the customer's confirmation is queued in the same transaction), the confirmation is
// mailed by a job with its own retries, and every morning a summary of the open tickets goes
// to the workshop; a ticket export runs sandboxed, in a worker thread. Not a store: the second example app, compiled into its own binary
// (docs/getting-started.md). It imports only the package's entry points.
import { defineAction, defineApp, defineModel, t } from "backroom";

export const Ticket = defineModel({
  name: "Ticket",
  table: "tickets",
  fields: t.Object({
    customer_email: t.String({ format: "email", maxLength: 200 }),
    device: t.String({ minLength: 1, maxLength: 200 }),
    fault: t.String({ minLength: 1, maxLength: 2_000 }),
    status: t.Union([t.Literal("open"), t.Literal("ready"), t.Literal("collected")]),
    desk_user: t.Optional(t.String()),
  }),
  ownerField: "desk_user",
  access: { list: "user", get: "user", create: false, update: { role: "technician" }, delete: false },
});

const CheckIn = t.Object({
  customer_email: t.String({ format: "email", maxLength: 200 }),
  device: t.String({ minLength: 1, maxLength: 200 }),
  fault: t.String({ minLength: 1, maxLength: 2_000 }),
});

/** POST /api/check_ins: the ticket and its confirmation job commit together, or neither does. */
export const checkIn = defineAction({
  method: "POST",
  path: "/check_ins",
  body: CheckIn,
  response: t.Object({ ticket_id: t.String(), job_id: t.String() }),
  status: 202,
  async handler({ auth, body, services, transaction, traceparent }) {
    const { ticket, jobId } = await transaction(() => {
      // Created as the desk user: the owner field is set from them, as for any write they make.
      const ticket = services.model("tickets").create({ ...body, status: "open" }, { auth, services, traceparent });
      const jobId = services.queue.enqueue({ type: "confirm_check_in", payload: { ticket_id: ticket.id }, actorId: auth!.id, traceId: traceparent });
      return { ticket, jobId };
    });
    return { status: 202 as const, data: { ticket_id: ticket.id as string, job_id: jobId } };
  },
});

/** POST /api/exports: a technician asks for every ticket as CSV; a sandboxed job builds it. */
export const exportTicketsAction = defineAction({
  method: "POST",
  path: "/exports",
  access: { role: "admin" },
  response: t.Object({ job_id: t.String() }),
  status: 202,
  async handler({ auth, services, transaction }) {
    const jobId = await transaction(() => services.queue.enqueue({ type: "export_tickets", actorId: auth!.id }));
    return { status: 202 as const, data: { job_id: jobId } };
  },
});

export const repairDesk = defineApp({
  name: "repair-desk",
  version: "1.0.0",
  description: "a repair shop's front desk",
  models: [Ticket],
  actions: [checkIn, exportTicketsAction],
  mailFrom: "Repair Desk <desk@repair.local>",
  settings: {
    "workshop-email": { type: "string", env: "REPAIR_DESK_WORKSHOP", default: "workshop@repair.local", help: "who gets the morning summary" },
  },
  jobs: ({ services, mailer, settings }) => ({
    // CPU-heavy: run in a worker thread, with read-only access to the database file.
    export_tickets: { sandbox: { module: new URL("./export-tickets.ts", import.meta.url), export: "exportTickets", readDatabase: true }, timeoutMs: 60_000 },
    confirm_check_in: {
      maxRetry: 5,
      timeoutMs: 10_000,
      async handler(job) {
        const { ticket_id } = job.payload as { ticket_id: string };
        const ticket = services.model("tickets").get(ticket_id);
        if (!ticket) return { output: { skipped: "ticket deleted" } };
        const sent = await mailer.send({
          to: ticket.customer_email as string,
          subject: `We have your ${ticket.device as string}`,
          text: `Ticket ${ticket_id}: ${ticket.device as string} — "${ticket.fault as string}". We will mail you when it is ready.`,
          messageId: `<check-in-${ticket_id}@repair.local>`,
        });
        return { output: { to: ticket.customer_email }, url: sent.url };
      },
    },
    morning_summary: async () => {
      const open = services.model("tickets").list({ where: [[{ field: "status", op: "eq", value: "open" }]], sort: [], limit: 1, offset: 0 }).total;
      await mailer.send({ to: settings["workshop-email"] as string, subject: `${open} open tickets`, text: `Open tickets this morning: ${open}\n` });
      return { output: { open } };
    },
  }),
  schedules: [{ name: "morning_summary", schedule: "0 8 * * *", type: "morning_summary" }],
});
