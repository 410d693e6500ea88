// Every statement the PostgreSQL queue runs, in one place so they can be audited together.
// Each names the index that serves it (postgres-schema.ts); test/jobs/postgres-plan.test.ts
// checks those plans with EXPLAIN on a table of 100,000 jobs. `t` is the table name, checked
// to be a plain identifier by the queue's constructor.
const AVAILABLE = `status IN ('enqueued', 'failed')`;
const UNFINISHED = `status IN ('enqueued', 'running', 'failed')`;
const COLUMNS = `id, type, payload, headers, actor_id, tenant_id, max_retry, group_key, trace_id, priority, unique_key, timeout_ms, attempts, requeues, queue, created_at`;
// Appends the attempt-history entry at $n (JSON text, or NULL for none) to attempts_log.
const appendLog = (n: number) =>
  `attempts_log = CASE WHEN $${n}::text IS NULL THEN attempts_log WHEN attempts_log IS NULL THEN '[' || $${n}::text || ']'
                       ELSE left(attempts_log, -1) || ',' || $${n}::text || ']' END`;
const CLEAR_LEASE = `lease_expires_at = NULL, claimed_by = NULL`;
// Settle statements apply only while this owner holds the attempt: an outcome arriving after a
// takeover or a cancel changes nothing. Index: primary key.
const HELD = `WHERE id = $1 AND status = 'running' AND claimed_by = $2 RETURNING id`;

export type PostgresStatements = ReturnType<typeof postgresStatements>;

export function postgresStatements(t: string) {
  return {
    // One statement: insert (unless an unfinished job holds the unique key) and NOTIFY, which
    // PostgreSQL delivers only if and when the surrounding transaction commits.
    insert: `
      WITH inserted AS (
        INSERT INTO ${t} (id, type, status, payload, headers, priority, max_retry, run_at, group_key, unique_key,
                          trace_id, actor_id, tenant_id, timeout_ms, created_at, updated_at, partition_key, queue)
        VALUES ($1, $2, 'enqueued', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $16, $17)
        ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND ${UNFINISHED} DO NOTHING
        RETURNING id)
      SELECT id, pg_notify($15, '') FROM inserted`,
    // Index: <t>_unique.
    unfinishedByUniqueKey: `SELECT id FROM ${t} WHERE unique_key = $1 AND ${UNFINISHED}`,

    // Jobs enqueued elsewhere (a till's outbox), stored as they are, in one statement; a row
    // whose id or unfinished unique key is here already is skipped.
    adopt: `
      WITH adopted AS (
        INSERT INTO ${t} (id, type, status, payload, headers, priority, attempts, max_retry, run_at, group_key, unique_key,
                          trace_id, actor_id, tenant_id, timeout_ms, error, created_at, updated_at, partition_key, queue, attempts_log)
        SELECT id, type, status, payload, headers, priority, attempts, max_retry, run_at, group_key, unique_key,
               trace_id, actor_id, tenant_id, timeout_ms, error, created_at, updated_at, $2, coalesce(queue, 'default'), attempts_log
        FROM jsonb_to_recordset($1::text::jsonb) AS r(id text, type text, status text, payload text, headers text, priority int, attempts int,
             max_retry int, run_at float8, group_key text, unique_key text, trace_id text, actor_id text, tenant_id text,
             timeout_ms float8, error text, created_at float8, updated_at float8, queue text, attempts_log text)
        ORDER BY id
        ON CONFLICT DO NOTHING
        RETURNING id)
      SELECT id, pg_notify($3, '') FROM adopted`,

    // The queues of this partition that have waiting jobs and are not paused: a skip-scan of
    // <t>_claimq (one index probe per queue), less the paused ones.
    openQueues: `
      WITH RECURSIVE queues AS (
        (SELECT queue FROM ${t} WHERE partition_key = $1 AND ${AVAILABLE} ORDER BY queue LIMIT 1)
        UNION ALL
        SELECT (SELECT queue FROM ${t} WHERE partition_key = $1 AND ${AVAILABLE} AND queue > queues.queue ORDER BY queue LIMIT 1)
        FROM queues WHERE queues.queue IS NOT NULL)
      SELECT queue FROM queues WHERE queue IS NOT NULL AND queue NOT IN (SELECT name FROM ${t}_queues WHERE paused)`,
    // The claim's candidates from one queue ($4): this partition's due jobs in claim order,
    // locked, skipping rows another claim holds. Index: <t>_claimq (partition_key, queue,
    // priority DESC, run_at, id), walked in order and stopped at LIMIT.
    claimCandidates: `
      SELECT id, group_key, queue, priority, run_at FROM ${t}
      WHERE partition_key = $3 AND queue = $4 AND ${AVAILABLE} AND run_at <= $1
      ORDER BY priority DESC, run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
    // A group key is free when this transaction takes its advisory lock (no other claim is
    // taking it now) and THEN no committed job holds it (running, or failed awaiting its
    // retry). Two statements, in that order: a statement reads the snapshot taken when it
    // starts, so a check in the lock's own statement could miss a claim that committed (and
    // let go of the lock) while the statement ran, and start a second job of the key.
    groupKeyLock: `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked`,
    // Index: <t>_holders.
    groupKeyHeld: `SELECT EXISTS (SELECT 1 FROM ${t} WHERE group_key = $1 AND status IN ('running', 'failed') AND id <> $2) AS held`,
    // Index: primary key. The jobs in $5 start at once (their attempt counted now); the others
    // are claimed ahead of a free slot, their attempt counted by markStarted.
    markRunning: `
      UPDATE ${t} SET status = 'running', attempts = attempts + (CASE WHEN id = ANY($5::text[]) THEN 1 ELSE 0 END),
        attempt_started = (CASE WHEN id = ANY($5::text[]) THEN 1 ELSE 0 END),
        started_at = (CASE WHEN id = ANY($5::text[]) THEN $2 ELSE started_at END),
        updated_at = $2, lease_expires_at = $3, claimed_by = $4
      WHERE id = ANY($1::text[]) RETURNING ${COLUMNS}, attempt_started, run_at`,
    // Index: primary key.
    markStarted: `
      UPDATE ${t} SET attempts = attempts + 1, attempt_started = 1, started_at = $2, updated_at = $2
      WHERE id = ANY($1::text[]) AND status = 'running' AND claimed_by = $3 AND attempt_started = 0`,

    // An outcome counts its attempt if its start was not written yet (started and finished
    // between two writes: the worker sends no separate start for it).
    // A succeeded job keeps claimed_by (the worker of its last attempt, for its history).
    markSucceeded: `
      UPDATE ${t} SET status = 'succeeded', error = NULL, attempts = attempts + 1 - attempt_started, attempt_started = 1, output = $3, result_url = $4, result_mime = $5, result_size = $6,
        completed_at = $7, updated_at = $7, lease_expires_at = NULL ${HELD}, queue`,
    // $6 (markDead: $5): the attempt's history entry.
    markFailed: `UPDATE ${t} SET status = 'failed', error = $3, attempts = attempts + 1 - attempt_started, attempt_started = 1, run_at = $4, updated_at = $5, ${CLEAR_LEASE}, ${appendLog(6)} ${HELD}`,
    markDead: `UPDATE ${t} SET status = 'dead', error = $3, attempts = attempts + 1 - attempt_started, attempt_started = 1, completed_at = $4, updated_at = $4, ${CLEAR_LEASE}, ${appendLog(5)} ${HELD}`,
    // The attempt is given back only if it had started (a claimed-ahead job spent none).
    // $4: when it may run again; $5: 1 for a requeue (no handler here), counted in `requeues`.
    markReleased: `
      UPDATE ${t} SET status = 'enqueued', attempts = attempts - attempt_started, run_at = $4, updated_at = $3, requeues = requeues + $5,
        ${CLEAR_LEASE}, ${appendLog(6)} ${HELD}`,

    // Index: primary key.
    extendLeases: `UPDATE ${t} SET lease_expires_at = $1 WHERE id = ANY($2::text[]) AND status = 'running' AND claimed_by = $3`,
    // This partition's lapsed jobs that were claimed ahead and never started go back to waiting
    // without spending an attempt, up to $3 times each. Index: <t>_lease.
    releaseExpiredUnstarted: `
      UPDATE ${t} SET status = 'enqueued', requeues = requeues + 1, updated_at = $1, ${CLEAR_LEASE}
      WHERE id IN (SELECT id FROM ${t} WHERE status = 'running' AND partition_key = $2 AND lease_expires_at <= $1
                   AND attempt_started = 0 AND requeues < $3 FOR UPDATE SKIP LOCKED)
      RETURNING id`,
    // The rest of this partition's running jobs whose lease lapsed, taken over by the caller (an
    // unstarted one's attempt is counted now). Index: <t>_lease.
    takeExpired: `
      UPDATE ${t} SET claimed_by = $1, lease_expires_at = $3, attempts = attempts + 1 - attempt_started, attempt_started = 1
      WHERE id IN (SELECT id FROM ${t} WHERE status = 'running' AND partition_key = $4 AND lease_expires_at <= $2 FOR UPDATE SKIP LOCKED)
      RETURNING ${COLUMNS}`,
    // Index: <t>_next (partition_key, run_at): walked from $1 to the first job not in a paused queue.
    nextDueAt: `SELECT min(run_at) AS at FROM ${t} WHERE ${AVAILABLE} AND partition_key = $2 AND run_at > $1
                AND queue NOT IN (SELECT name FROM ${t}_queues WHERE paused)`,

    // Index: primary key.
    cancel: `UPDATE ${t} SET status = 'cancelled', completed_at = $2, updated_at = $2 WHERE id = $1 AND ${AVAILABLE} RETURNING id`,
    retryDead: `UPDATE ${t} SET status = 'enqueued', attempts = 0, run_at = $2, completed_at = NULL, updated_at = $2 WHERE id = $1 AND status = 'dead' RETURNING id`,
    statusOf: `SELECT status FROM ${t} WHERE id = $1`,
    state: `SELECT * FROM ${t} WHERE id = $1`,
    // The queues page: every queue's jobs not succeeded, by status (index-only, _states2), and
    // the kept succeeded counts.
    queueCounts: `
      SELECT queue, status, count(*)::int AS n FROM ${t} WHERE status <> 'succeeded' GROUP BY queue, status
      UNION ALL
      SELECT queue, 'succeeded', sum(n)::int FROM ${t}_queue_succeeded GROUP BY queue`,
    queueStates: `SELECT name, paused FROM ${t}_queues`,
    setPaused: `
      INSERT INTO ${t}_queues (name, paused, updated_at) VALUES ($1, $2, $3)
      ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at`,
    declarePaused: `INSERT INTO ${t}_queues (name, paused, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
    // This process's share of a queue's succeeded count ($3 may be negative: deletes).
    countSucceeded: `
      INSERT INTO ${t}_queue_succeeded AS c (queue, owner, n) VALUES ($1, $2, $3)
      ON CONFLICT (queue, owner) DO UPDATE SET n = c.n + excluded.n`,
    // An operator deletes one finished job and its history. Index: primary key.
    deleteFinished: `DELETE FROM ${t} WHERE id = $1 AND status IN ('succeeded', 'dead', 'cancelled') RETURNING queue, status`,
    // The dashboard's counts: every unfinished, dead and cancelled job (not the succeeded ones).
    // Index: _states2 (an index-only scan of the jobs not succeeded).
    stateCounts: `SELECT status, type, count(*)::int AS n FROM ${t} WHERE status <> 'succeeded' GROUP BY status, type`,
    // The same for one partition, for its process's /metrics. Index: _states2, a range of it.
    partitionStateCounts: `SELECT status, type, count(*)::int AS n FROM ${t} WHERE partition_key = $1 AND status <> 'succeeded' GROUP BY status, type`,
    // Retention, a bounded chunk at a time, this partition's jobs only.
    pruneFinished: `
      DELETE FROM ${t} WHERE id IN (
        SELECT id FROM ${t} WHERE status = ANY($1::text[]) AND completed_at < $2 AND partition_key = $4 LIMIT $3) RETURNING queue, status`,
    notify: `SELECT pg_notify($1, '')`,
  };
}
