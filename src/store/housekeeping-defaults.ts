// The store's housekeeping settings and their defaults, apart from the handlers so that the
// CLI's flag table (src/cli/flags.ts) can show them without loading the store.
export interface HousekeepingOptions {
  /** Who receives the daily report. */
  reportTo: string;
  /** Succeeded and cancelled jobs are kept this many days (default 7). */
  keepJobsDays: number;
  /** Dead jobs are kept longer, for inspection (default 30). */
  keepDeadDays: number;
  /** Idempotency keys are kept this many hours (default 48). */
  keepIdempotencyHours: number;
}

export const DEFAULT_HOUSEKEEPING: HousekeepingOptions = { reportTo: "manager@backroom.local", keepJobsDays: 7, keepDeadDays: 30, keepIdempotencyHours: 48 };
