// What of a job only the admin role may see: its last error, which can name server internals
// (`ENOTDIR: not a directory, open '/srv/till/outbox/….eml'`), and a result URL that is a path
// on the server (`file:///…/outbox/…`). One rule for REST reads of job statuses and for the job
// events delivered to non-admins (realtime, webhooks): src/events/job-events.ts applies it there.

/** A URL naming a file on the server: a path, not something a client can fetch. */
export function isServerPath(url: unknown): boolean {
  return typeof url === "string" && /^file:/i.test(url);
}

/** A status row's wire JSON as a non-admin may see it: no `error`, no server path in `result_url`. */
export function hideJobInternals(json: Record<string, unknown>): Record<string, unknown> {
  delete json.error;
  delete json.attempts_history; // each attempt's error and stack: the same internals
  if (isServerPath(json.result_url)) json.result_url = null;
  return json;
}
