// The daily report: at 23:55 local time, the day's orders and revenue are mailed to the
// manager (the app's `report-to` setting). Missed ticks are caught up ("all"): a till that was
// off at closing time still sends that day's report when it starts.
import type { Handler, Mailer, ScheduleDefinition, Services } from "../index.ts";

export const DAILY_REPORT_JOB = "daily_report";

export const dailyReportSchedule: ScheduleDefinition = { name: "daily_report", schedule: "55 23 * * *", type: DAILY_REPORT_JOB, catchUp: "all" };

export function dailyReportHandler(services: Services, mailer: Mailer, reportTo: string): Handler {
  return async (job) => {
    const at = Date.parse(job.headers["x-cron-fire-at"] ?? "") || Date.now();
    const start = new Date(at);
    start.setHours(0, 0, 0, 0);
    const day = `${start.getFullYear()}-${String(start.getMonth() + 1).padStart(2, "0")}-${String(start.getDate()).padStart(2, "0")}`;
    const { orders, revenue } = services.db.sqlite
      .query("SELECT count(*) AS orders, coalesce(sum(total_cents), 0) AS revenue FROM orders WHERE status = 'placed' AND created_at >= ? AND created_at <= ?")
      .get(start.getTime(), at) as { orders: number; revenue: number };
    const sent = await mailer.send({
      to: reportTo,
      subject: `Daily report ${day}: ${orders} orders, ${(revenue / 100).toFixed(2)}`,
      text: `Orders placed on ${day}: ${orders}\nRevenue: ${(revenue / 100).toFixed(2)}\n`,
      messageId: `<daily-report-${day}@backroom.local>`,
    });
    return { output: { day, orders, revenue_cents: revenue }, url: sent.url, mime: "message/rfc822" };
  };
}
