// The SQLite queue's schema and every statement it runs, in one place so they can be audited
// together. Each statement names the index that serves it; test/jobs/sqlite-plan.test.ts
// checks those plans with EXPLAIN QUERY PLAN. The hot scans pin their index with INDEXED BY:
// the planner once preferred the listing index jobs_status for the claim (plus a sort step),
// which cut throughput by two thirds; pinned, a missing index is an error, not a slow queue.
//
// Storage decision: the status row IS the job row. `job_statuses` is a view over `jobs`, so
// an enqueue writes one row, not two, and a status can never disagree with its job.
import type { Migration } from "../db/migrations.ts";
import { DEFAULT_QUEUE } from "./types.ts";

const AVAILABLE = `status IN ('enqueued', 'failed')`;
const HOLDING = `status IN ('running', 'failed')`;
const UNFINISHED = `status IN ('enqueued', 'running', 'failed')`;
// Parked: waiting behind another job of its group key (see selectCandidates).
const CLAIMABLE = `${AVAILABLE} AND parked = 0`;

// The default queue is stored as '' (jobs v5), not as its name: every job row and every entry
// of the claim index carries its queue, and most jobs are in the default one. '' takes no bytes
// beyond its type (1 byte in the record header, like NULL) where 'default' took 8, and it
// cannot be a queue's name (names are 1–64 characters). It still sorts, compares and takes
// min() like any name, so the skip-scan of the queues and the claim's range work unchanged.
// Only this file maps it: a statement binds a name through storedQueue and answers a name
// through queueName; the small tables (job_queues, job_queue_succeeded) keep names.
const DEFAULT = `'${DEFAULT_QUEUE}'`;
const queueName = (column: string) => `iif(${column} = '', ${DEFAULT}, ${column})`;
const storedQueue = (param: string) => `iif(${param} = ${DEFAULT}, '', ${param})`;

// Waiting, parked, running and troubled jobs counted by `column` and status, each part read
// through the partial index of its states: bounded by the jobs in those states, never a scan of
// the finished ones.
function countsBy(column: "type" | "queue"): string {
  // Grouped by the stored column (jobs.queue, not the name the row answers), in index order.
  const value = column === "queue" ? `${queueName("queue")} AS queue` : column;
  return `
    SELECT ${value}, status, count(*) AS n FROM jobs INDEXED BY jobs_available WHERE ${CLAIMABLE} GROUP BY jobs.${column}, status
    UNION ALL
    SELECT ${value}, status, count(*) FROM jobs INDEXED BY jobs_parked WHERE ${AVAILABLE} AND parked = 1 GROUP BY jobs.${column}, status
    UNION ALL
    SELECT ${value}, status, count(*) FROM jobs INDEXED BY jobs_active WHERE ${HOLDING} AND status = 'running' GROUP BY jobs.${column}, status
    UNION ALL
    SELECT ${value}, status, count(*) FROM jobs INDEXED BY jobs_troubled WHERE status IN ('dead', 'cancelled') GROUP BY jobs.${column}, status`;
}

// Every column of a job row, its queue by name: what a point read and the outbox answer.
const ROW_COLUMNS = `id, type, status, payload, headers, priority, attempts, max_retry, run_at, group_key, parked, unique_key,
  trace_id, actor_id, tenant_id, timeout_ms, lease_expires_at, claimed_by, error, result_url, result_mime, result_size,
  output, created_at, started_at, completed_at, updated_at, attempt_started, requeues, ${queueName("queue")} AS queue, attempts_log`;

// The status columns as REST lists them (src/jobs/status-columns.ts): the view job_statuses,
// and the listings that read a partial index (statusSource).
const STATUS_SELECT = `id, type, status, ${queueName("queue")} AS queue, priority, attempts, max_retry, actor_id, tenant_id, group_key,
  trace_id, error, result_url, result_mime, output, run_at, created_at, started_at, completed_at, updated_at`;

export const jobsMigrations: Migration[] = [
  {
    component: "jobs",
    version: 1,
    name: "jobs table, claim indexes, job_statuses view",
    up: `
      CREATE TABLE jobs (
        id               TEXT    PRIMARY KEY,
        type             TEXT    NOT NULL,
        -- No CHECK on status: only this file's statements write it, with literal values, and
        -- the constraint cost 1.4 µs of a 6 µs enqueue (measured), on every insert and update.
        status           TEXT    NOT NULL,
        payload          TEXT    NOT NULL,
        headers          TEXT,
        priority         INTEGER NOT NULL DEFAULT 0,
        attempts         INTEGER NOT NULL DEFAULT 0,
        max_retry        INTEGER NOT NULL,
        run_at           INTEGER NOT NULL,
        group_key        TEXT,
        parked           INTEGER NOT NULL DEFAULT 0,
        unique_key       TEXT,
        trace_id         TEXT,
        actor_id         TEXT,
        tenant_id        TEXT,
        timeout_ms       INTEGER,
        lease_expires_at INTEGER,
        claimed_by       TEXT,
        error            TEXT,
        result_url       TEXT,
        result_mime      TEXT,
        result_size      INTEGER,
        output           TEXT,
        created_at       INTEGER NOT NULL,
        started_at       INTEGER,
        completed_at     INTEGER,
        updated_at       INTEGER NOT NULL
      );
      -- Claim order. Partial: finished rows (the vast majority) and parked ones never enter it.
      CREATE INDEX jobs_available ON jobs (priority DESC, run_at, id) WHERE ${CLAIMABLE};
      -- Parked jobs by group key, in claim order: the next one to release when the key frees.
      CREATE INDEX jobs_parked ON jobs (group_key, priority DESC, run_at, id) WHERE ${AVAILABLE} AND parked = 1;
      -- Group holds and lease rescue: running jobs, and failed ones waiting to retry.
      CREATE INDEX jobs_active ON jobs (status, group_key, id) WHERE ${HOLDING};
      -- One unfinished job per unique key.
      CREATE UNIQUE INDEX jobs_unique ON jobs (unique_key) WHERE unique_key IS NOT NULL AND ${UNFINISHED};
      -- The status rows as REST lists them (columns: src/jobs/status-columns.ts).
      CREATE VIEW job_statuses AS
        SELECT id, type, status, priority, attempts, max_retry, actor_id, tenant_id, group_key, trace_id, error,
               result_url, result_mime, output, run_at, created_at, started_at, completed_at, updated_at
        FROM jobs;
      -- Status listing: a caller's own jobs (actor_id never changes, so this costs one entry at
      -- insert, and nothing for system jobs), and the jobs that need an operator's eye. A full
      -- (status, created_at) index is rewritten on every transition: with it (and an unfiltered
      -- actor index) enqueue fell from 0.96× to 0.63× the raw rate under synchronous=NORMAL,
      -- so succeeded jobs are listed by scanning instead.
      CREATE INDEX jobs_actor ON jobs (actor_id, created_at) WHERE actor_id IS NOT NULL;
      CREATE INDEX jobs_troubled ON jobs (status, created_at) WHERE status IN ('dead', 'cancelled');
    `,
  },
  {
    component: "jobs",
    version: 2,
    name: "jobs claimed ahead spend no attempt until their handler starts",
    // attempt_started: 1 when the running attempt's handler has started (and `attempts`
    // counts it), 0 while the job is claimed ahead of a free slot. A crash spends only started
    // attempts. Rows of version 1 counted the attempt at claim, hence the default of 1.
    // requeues: how many times the job was put back without its handler running — a crash
    // before it started, or no handler for its type — bounded (MAX_REQUEUES), so neither a
    // handler that kills the process before its start is written nor a type nobody handles
    // loops forever.
    // Adding columns with constant defaults rewrites no row.
    up: `
      ALTER TABLE jobs ADD COLUMN attempt_started INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE jobs ADD COLUMN requeues INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    component: "jobs",
    version: 3,
    name: "named queues (pause state, claim index by queue), attempt history",
    // queue: the named queue a job waits in; every earlier job was in "default". The claim index
    // leads with it, so a claim reads each open queue's range in claim order and never steps
    // over the backlog of a paused queue (or one at its limit). attempts_log: the attempts that
    // did not succeed, as a JSON array (src/jobs/attempt-history.ts), appended by the statement
    // that settles each. job_queues: pause state (a row per queue paused or resumed at least
    // once). job_queue_succeeded: succeeded jobs per queue, kept by the settle that succeeds them
    // and the deletes that remove them, because counting a million succeeded rows is a scan.
    up: `
      ALTER TABLE jobs ADD COLUMN queue TEXT NOT NULL DEFAULT 'default';
      ALTER TABLE jobs ADD COLUMN attempts_log TEXT;
      DROP INDEX jobs_available;
      CREATE INDEX jobs_available ON jobs (queue, priority DESC, run_at, id) WHERE ${CLAIMABLE};
      DROP VIEW job_statuses;
      CREATE VIEW job_statuses AS
        SELECT id, type, status, queue, priority, attempts, max_retry, actor_id, tenant_id, group_key, trace_id, error,
               result_url, result_mime, output, run_at, created_at, started_at, completed_at, updated_at
        FROM jobs;
      CREATE TABLE job_queues (
        name       TEXT    PRIMARY KEY,
        paused     INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE job_queue_succeeded (
        queue TEXT    PRIMARY KEY,
        n     INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO job_queue_succeeded (queue, n) SELECT 'default', count(*) FROM jobs WHERE status = 'succeeded' HAVING count(*) > 0;
    `,
  },
  {
    component: "jobs",
    version: 4,
    name: "succeeded counts written in batches, with a mark while behind",
    // Under a backlog the succeeded counts are added up in memory and written about once a
    // second, not in every settle's commit (src/jobs/succeeded-tally.ts). behind = 1 while
    // committed successes may be missing from job_queue_succeeded: a start that finds it so
    // (the process died mid-backlog) counts them again.
    up: `
      CREATE TABLE job_queue_succeeded_behind (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        behind INTEGER NOT NULL
      );
      INSERT INTO job_queue_succeeded_behind (id, behind) VALUES (1, 0);
    `,
  },
  {
    component: "jobs",
    version: 5,
    name: "the default queue stored as ''",
    // See DEFAULT above: 8 bytes less per row and per claim-index entry, which took the WAL
    // frames written per 10,000 jobs processed (synchronous=FULL) from 1,447 back to 1,394.
    // Rewrites every job row of the default queue once (rows older than jobs v3 carry no queue
    // and read as 'default', so they are rewritten too); times and states are left as they
    // are (updated_at is the forwarding outbox's version of a row, and nothing changed).
    // The view maps the queue back to its name.
    up: `
      UPDATE jobs SET queue = '' WHERE queue = ${DEFAULT};
      DROP VIEW job_statuses;
      CREATE VIEW job_statuses AS SELECT ${STATUS_SELECT} FROM jobs;
    `,
  },
];

// Appends the attempt-history entry bound at ?N (JSON text, or NULL for none) to attempts_log:
// text surgery on the array's closing bracket, no JSON parse of what is already there.
const appendLog = (n: number) =>
  `attempts_log = CASE WHEN ?${n} IS NULL THEN attempts_log WHEN attempts_log IS NULL THEN '[' || ?${n} || ']'
                       ELSE substr(attempts_log, 1, length(attempts_log) - 1) || ',' || ?${n} || ']' END`;

const CLAIM_COLUMNS = `id, type, payload, headers, actor_id, tenant_id, max_retry, group_key, trace_id,
  priority, unique_key, timeout_ms, attempts, requeues, created_at`;
const JOB_COLUMNS = `${CLAIM_COLUMNS}, ${queueName("queue")} AS queue`;

// The claim query's text (SQL.selectCandidates), with `extra` columns.
function candidates(extra: string): string {
  return `
    SELECT ${CLAIM_COLUMNS}${extra},
      (group_key IS NOT NULL AND EXISTS (
        SELECT 1 FROM jobs AS holder INDEXED BY jobs_active
        WHERE holder.${HOLDING} AND holder.group_key = jobs.group_key AND holder.id <> jobs.id)) AS held
    FROM jobs INDEXED BY jobs_available
    WHERE ${CLAIMABLE} AND queue = ${storedQueue("?3")} AND run_at <= ?1
    ORDER BY priority DESC, run_at, id
    LIMIT ?2`;
}

export const SQL = {
  insert: `
    INSERT INTO jobs (id, type, status, payload, headers, priority, max_retry, run_at, group_key, unique_key,
                      trace_id, actor_id, tenant_id, timeout_ms, created_at, updated_at, queue)
    VALUES (?1, ?2, 'enqueued', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ${storedQueue("?15")})`,

  // Index: jobs_unique.
  findUnfinishedByUniqueKey: `SELECT id FROM jobs WHERE unique_key = ? AND ${UNFINISHED}`,

  // The queues that have waiting jobs and are not paused: a skip-scan of jobs_available's
  // first column, one index seek per queue (not a read of every waiting job), and a primary-key
  // look-up of each in job_queues. Read from the file on every claim, in the claim's
  // transaction, so a pause written by another process (the CLI) holds from its commit on.
  waitingQueues: `
    WITH RECURSIVE queues(name) AS (
      SELECT (SELECT min(queue) FROM jobs INDEXED BY jobs_available WHERE ${CLAIMABLE})
      UNION ALL
      SELECT (SELECT min(queue) FROM jobs INDEXED BY jobs_available WHERE ${CLAIMABLE} AND queue > queues.name)
      FROM queues WHERE queues.name IS NOT NULL)
    SELECT ${queueName("name")} AS name FROM queues
    WHERE name IS NOT NULL AND NOT EXISTS (SELECT 1 FROM job_queues WHERE job_queues.name = ${queueName("queues.name")} AND paused = 1)`,
  // Index: primary key of job_queues.
  setPaused: `
    INSERT INTO job_queues (name, paused, updated_at) VALUES (?1, ?2, ?3)
    ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at`,
  // A state declared in code: stored only if the queue has none yet.
  declarePaused: `INSERT INTO job_queues (name, paused, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING`,
  // Succeeded jobs per queue, kept up to date by the settles (in batches: succeeded-tally.ts)
  // and by the deletes. Index: primary key of job_queue_succeeded.
  countSucceeded: `
    INSERT INTO job_queue_succeeded (queue, n) VALUES (?1, ?2)
    ON CONFLICT (queue) DO UPDATE SET n = n + excluded.n`,
  succeededBehind: `SELECT behind FROM job_queue_succeeded_behind`,
  setSucceededBehind: `UPDATE job_queue_succeeded_behind SET behind = ?1`,
  // After a crash mid-backlog only: a scan of every succeeded row, once, at start.
  clearSucceeded: `DELETE FROM job_queue_succeeded`,
  recountSucceeded: `INSERT INTO job_queue_succeeded (queue, n) SELECT ${queueName("queue")}, count(*) FROM jobs WHERE status = 'succeeded' GROUP BY queue`,

  // The claim query, one queue's range (?3). Index: jobs_available, walked in order (no sort step), stopping at LIMIT.
  // A job whose group key is held by ANOTHER job comes back flagged `held` — held means
  // running, or failed and waiting for its retry, so a later job of the key never overtakes an
  // earlier one that is failing. The hold is read from the rows themselves (index
  // jobs_active), not from memory, so it is right after a crash by construction.
  // The caller parks flagged rows (and all but the first row of each key in a batch): they
  // leave jobs_available, so a backlog of one busy key is stepped over once, not on every
  // claim. When the key is released, the first parked job of the key is unparked.
  // The claimer knows the queue it reads (?3): it is not read back per row.
  selectCandidates: candidates(""),
  // The same with each row's run_at, which merging several queues' pages in claim order needs
  // (one column less per row on the usual path, one open queue).
  selectCandidatesToMerge: candidates(", run_at"),

  // Index: primary key.
  park: `UPDATE jobs SET parked = 1 WHERE id = ?`,
  // Index: jobs_parked.
  unparkNext: `
    UPDATE jobs SET parked = 0
    WHERE id = (SELECT id FROM jobs WHERE ${AVAILABLE} AND parked = 1 AND group_key = ?1
                ORDER BY priority DESC, run_at, id LIMIT 1)`,
  // At start-up, a safety net: every parked job is looked at again by the next claim.
  // Index: jobs_parked.
  unparkAll: `UPDATE jobs INDEXED BY jobs_parked SET parked = 0 WHERE ${AVAILABLE} AND parked = 1`,

  // The whole batch in one statement (?1 is a JSON array of ids). Index: primary key.
  // Jobs that start at once: the attempt is counted in the claim's commit.
  markRunning: `
    UPDATE jobs SET status = 'running', attempts = attempts + 1, attempt_started = 1, started_at = ?2, updated_at = ?2,
                    lease_expires_at = ?3, claimed_by = ?4
    WHERE id IN (SELECT value FROM json_each(?1))`,
  // Jobs claimed ahead of a free slot: leased and running, attempt not counted yet.
  markClaimedAhead: `
    UPDATE jobs SET status = 'running', attempt_started = 0, updated_at = ?2, lease_expires_at = ?3, claimed_by = ?4
    WHERE id IN (SELECT value FROM json_each(?1))`,
  // A claimed-ahead job's handler started: now its attempt counts. Index: primary key.
  markStarted: `
    UPDATE jobs SET attempts = attempts + 1, attempt_started = 1, started_at = ?2, updated_at = ?2
    WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'running' AND claimed_by = ?3 AND attempt_started = 0`,

  // Settle statements. Each applies only while this owner still holds the attempt, so an
  // outcome that arrives after a rescue or a cancel changes nothing. Index: primary key.
  // An outcome counts its attempt if its start was not written yet (a claimed-ahead job that
  // started and finished between two writes): the worker sends no separate start for it,
  // which keeps fast jobs at one row update per transition.
  // A succeeded job keeps claimed_by: the worker that ran its last attempt, for its history
  // (attempt-history.ts); only a running row's claimed_by means a lease.
  markSucceeded: `
    UPDATE jobs SET status = 'succeeded', error = NULL, attempts = attempts + 1 - attempt_started, attempt_started = 1, output = ?3, result_url = ?4, result_mime = ?5,
                    result_size = ?6, completed_at = ?7, updated_at = ?7, lease_expires_at = NULL
    WHERE id = ?1 AND status = 'running' AND claimed_by = ?2`,
  // Successes without a result (a handler that returned nothing: most of a batch) that
  // finished in the same millisecond, in one statement (?1 a JSON array of ids, ?3 the time).
  // With it (and the claim's trims) a job processed costs 55.9k instructions against 60.1k
  // with one statement per job, and 55.6k before named queues (callgrind, bench/queue-process-cost.ts
  // batches, 10,000 − 1,000 jobs); an UPDATE … FROM json_each of id → time pairs cost more
  // (68k: its JSON object keys, RETURNING and the join's temporary table). The caller checks that every one applied; if not (a rescue
  // or a cancel got there first) it rolls this back and settles them one by one, to know which.
  // Index: primary key, one look-up per id.
  markSucceededTogether: `
    UPDATE jobs SET status = 'succeeded', error = NULL, attempts = attempts + 1 - attempt_started, attempt_started = 1, output = NULL, result_url = NULL, result_mime = NULL,
                    result_size = NULL, completed_at = ?3, updated_at = ?3, lease_expires_at = NULL
    WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'running' AND claimed_by = ?2`,
  savepointTogether: `SAVEPOINT succeed_together`,
  rollBackTogether: `ROLLBACK TO succeed_together`,
  releaseTogether: `RELEASE succeed_together`,
  // ?6 (and markDead's ?5): the attempt's history entry.
  markFailed: `
    UPDATE jobs SET status = 'failed', error = ?3, attempts = attempts + 1 - attempt_started, attempt_started = 1, run_at = ?4, updated_at = ?5, lease_expires_at = NULL, claimed_by = NULL,
                    ${appendLog(6)}
    WHERE id = ?1 AND status = 'running' AND claimed_by = ?2`,
  markDead: `
    UPDATE jobs SET status = 'dead', error = ?3, attempts = attempts + 1 - attempt_started, attempt_started = 1, completed_at = ?4, updated_at = ?4, lease_expires_at = NULL, claimed_by = NULL,
                    ${appendLog(5)}
    WHERE id = ?1 AND status = 'running' AND claimed_by = ?2`,
  // The attempt is given back only if it had started (a claimed-ahead job spent none). ?4 is
  // when it may run again, ?5 is 1 for a requeue (no handler here), counted in `requeues`;
  // ?6 the history entry of an attempt a shutdown cut short.
  markReleased: `
    UPDATE jobs SET status = 'enqueued', attempts = attempts - attempt_started, run_at = ?4, updated_at = ?3, parked = 0,
                    requeues = requeues + ?5, lease_expires_at = NULL, claimed_by = NULL, ${appendLog(6)}
    WHERE id = ?1 AND status = 'running' AND claimed_by = ?2`,

  // Index: primary key.
  extendLease: `UPDATE jobs SET lease_expires_at = ?2 WHERE id = ?1 AND status = 'running' AND claimed_by = ?3`,

  // Running jobs whose lease lapsed, or that a previous owner of the file left behind (only
  // one process owns the file, so any other claimant is dead). Taken over by this owner so
  // the worker can settle them as failed attempts. Index: jobs_active (status = 'running'); the
  // redundant HOLDING term lets the planner see that the partial index applies.
  // Claimed-ahead jobs (their handler never started) go back to waiting first, spending no
  // attempt, up to ?3 times each; returns their group keys, which they no longer hold.
  releaseExpiredUnstarted: `
    UPDATE jobs INDEXED BY jobs_active
    SET status = 'enqueued', requeues = requeues + 1, updated_at = ?2, parked = 0,
        lease_expires_at = NULL, claimed_by = NULL
    WHERE ${HOLDING} AND status = 'running' AND (lease_expires_at <= ?2 OR claimed_by IS NOT ?1)
      AND attempt_started = 0 AND requeues < ?3
    RETURNING group_key`,
  // The rest (started, or given back unstarted too often) are taken over to be settled as
  // failed attempts; an unstarted one's attempt is counted now.
  takeExpired: `
    UPDATE jobs INDEXED BY jobs_active
    SET claimed_by = ?1, lease_expires_at = ?3, attempts = attempts + 1 - attempt_started, attempt_started = 1
    WHERE ${HOLDING} AND status = 'running' AND (lease_expires_at <= ?2 OR claimed_by IS NOT ?1)
    RETURNING ${JOB_COLUMNS}`,

  // The earliest future run_at, so an idle worker sleeps exactly that long. Served by
  // jobs_available with a skip-scan over the (few) distinct priorities: a handful of index
  // seeks, not a scan of every waiting job. A separate run_at index would cost every
  // enqueue and claim one more index write (measured: about 20% of enqueue throughput).
  // One queue's (?2): the caller asks each open queue (a paused one's jobs are not due).
  nextDueAt: `
    WITH RECURSIVE priorities(p) AS (
      SELECT (SELECT max(priority) FROM jobs INDEXED BY jobs_available WHERE ${CLAIMABLE} AND queue = ${storedQueue("?2")})
      UNION ALL
      SELECT (SELECT max(priority) FROM jobs INDEXED BY jobs_available WHERE ${CLAIMABLE} AND queue = ${storedQueue("?2")} AND priority < priorities.p)
      FROM priorities WHERE priorities.p IS NOT NULL)
    SELECT min((SELECT min(run_at) FROM jobs INDEXED BY jobs_available
                WHERE ${CLAIMABLE} AND queue = ${storedQueue("?2")} AND priority = priorities.p AND run_at > ?1)) AS at
    FROM priorities WHERE priorities.p IS NOT NULL`,

  // Retention: finished jobs older than a cut-off, a bounded chunk at a time (the oldest rows
  // come first in rowid order, so a chunk is found without a full scan).
  // Returns what it deleted, so the succeeded counts follow.
  pruneFinished: `
    DELETE FROM jobs WHERE rowid IN (
      SELECT rowid FROM jobs WHERE status IN (SELECT value FROM json_each(?1)) AND completed_at < ?2 LIMIT ?3)
    RETURNING ${queueName("queue")} AS queue, status`,
  // An operator deletes one finished job (and its history). Index: primary key.
  deleteFinished: `DELETE FROM jobs WHERE id = ?1 AND status IN ('succeeded', 'dead', 'cancelled') RETURNING ${queueName("queue")} AS queue, status`,

  // Jobs by state and type for the dashboard.
  stateCounts: countsBy("type"),

  // The same by queue, and the succeeded ones from their kept count: the queues page.
  queueCounts: `${countsBy("queue")}
    UNION ALL
    SELECT queue, 'succeeded', n FROM job_queue_succeeded`,
  queueStates: `SELECT name, paused FROM job_queues`,

  // The forwarding queue's outbox (src/jobs/forwarding-queue.ts): waiting jobs as stored, in
  // claim order (queue by queue) whatever their run_at (the queue they move to keeps the delay). Index:
  // jobs_available, stopping at LIMIT.
  outbox: `SELECT ${ROW_COLUMNS} FROM jobs INDEXED BY jobs_available WHERE ${CLAIMABLE} ORDER BY jobs.queue, priority DESC, run_at, id LIMIT ?1`,
  // How much waits in the outbox, and since when, for /metrics. Index: jobs_available.
  outboxBacklog: `SELECT count(*) AS n, min(created_at) AS oldestCreatedAt FROM jobs INDEXED BY jobs_available WHERE ${CLAIMABLE}`,
  // A forwarded row leaves the outbox only if nothing changed it since it was read (a cancel,
  // a retry): status and updated_at are its version. Index: primary key.
  removeForwarded: `DELETE FROM jobs WHERE id = ?1 AND status = ?2 AND updated_at = ?3`,

  // Index: primary key.
  retryDead: `
    UPDATE jobs SET status = 'enqueued', attempts = 0, run_at = ?2, completed_at = NULL, updated_at = ?2, parked = 0
    WHERE id = ?1 AND status = 'dead'`,
  // Index: primary key.
  cancel: `UPDATE jobs SET status = 'cancelled', completed_at = ?2, updated_at = ?2 WHERE id = ?1 AND ${AVAILABLE} RETURNING group_key`,
  statusOf: `SELECT status FROM jobs WHERE id = ?`,
  state: `SELECT ${ROW_COLUMNS} FROM jobs WHERE id = ?`,
  // The status columns (job_statuses) and those of the attempt history: not the payload, headers
  // or lease columns, which a status read never shows (fewer values copied out per read).
  // The status rows of a listing filtered to dead/cancelled, or to running jobs, from the partial
  // index of those states (src/jobs/sqlite.ts: statusIndexFor) with the view's columns.
  troubledStatuses: `(SELECT ${STATUS_SELECT} FROM jobs INDEXED BY jobs_troubled WHERE status IN ('dead', 'cancelled')) AS job_statuses`,
  runningStatuses: `(SELECT ${STATUS_SELECT} FROM jobs INDEXED BY jobs_active WHERE ${HOLDING}) AS job_statuses`,
  statusRecord: `SELECT id, type, status, ${queueName("queue")} AS queue, priority, attempts, max_retry, actor_id, tenant_id, group_key, trace_id, error,
    result_url, result_mime, output, run_at, created_at, started_at, completed_at, updated_at, attempts_log, claimed_by, attempt_started
    FROM jobs WHERE id = ?`,
} as const;
