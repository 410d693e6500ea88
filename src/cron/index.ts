export { Scheduler, ScheduleExistsError, ScheduleNotFoundError, type ScheduleDefinition, type SchedulerOptions } from "./scheduler.ts";
export { cronMigrations, type CatchUp, type ScheduleState } from "./store.ts";
export { compileSchedule, InvalidScheduleError } from "./expression.ts";
