// The bookstore: the reference app the `backroom` binary runs, built on Backroom's public API
// (src/index.ts) alone — books, orders, the place-order action, the receipt and daily-report
// jobs, the demo catalogue. An app of your own has the same shape: docs/getting-started.md.
import packageJson from "../../package.json" with { type: "json" };
import { buildApp, defineApp, migrationsOf, type AppType, type BuildOptions } from "../index.ts";
import { Book, seedCatalogue } from "./catalogue.ts";
import { dailyReportHandler, dailyReportSchedule, DAILY_REPORT_JOB } from "./daily-report.ts";
import { Order, placeOrder, RECEIPT_JOB } from "./orders.ts";
import { sendReceiptHandler } from "./receipt.ts";

export const bookstore = defineApp({
  name: "backroom",
  version: packageJson.version,
  description: "an embedded job-and-event runtime: one executable, one SQLite file",
  models: [Book, Order],
  actions: [placeOrder],
  mailFrom: "Backroom Books <till@backroom.local>",
  settings: {
    "report-to": { type: "string", env: "BACKROOM_REPORT_TO", default: "manager@backroom.local", help: "who receives the daily report" },
  },
  jobs: ({ services, mailer, settings }) => ({
    [RECEIPT_JOB]: sendReceiptHandler(services, mailer),
    [DAILY_REPORT_JOB]: dailyReportHandler(services, mailer, settings["report-to"] as string),
  }),
  schedules: [dailyReportSchedule],
  seed({ services, logger }) {
    const seeded = seedCatalogue(services);
    if (seeded > 0) logger.log("info", "seeded the demo catalogue", { books: seeded });
  },
});

export const storeModels = bookstore.models;
export const storeMigrations = migrationsOf(bookstore);

/** The bookstore on pieces the caller opened (tests, benches): its app, services, handlers and schedules. */
export function createStoreApp(options: BuildOptions & { housekeeping?: { reportTo?: string } }) {
  const { housekeeping, ...rest } = options;
  return buildApp(bookstore, { anonymousJobStatuses: false, ...rest, settings: { ...rest.settings, ...(housekeeping?.reportTo ? { "report-to": housekeeping.reportTo } : {}) } });
}

/** The bookstore's HTTP app as Eden's treaty sees it: the real app's type, each route typed by its schemas. */
export type StoreApp = AppType<typeof bookstore>;
