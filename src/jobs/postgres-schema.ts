// The PostgreSQL queue's table: the SQLite schema's ideas (the status row is the job row,
// partial indexes for what the claim and the rescue read), PostgreSQL's types. Times are
// epoch milliseconds in DOUBLE PRECISION (exact to 2^53; Bun.SQL returns them as numbers).
export function postgresMigrationSql(table: string): string {
  const available = `status IN ('enqueued', 'failed')`;
  return `
    CREATE TABLE IF NOT EXISTS ${table} (
      id               TEXT PRIMARY KEY,
      type             TEXT NOT NULL,
      status           TEXT NOT NULL CHECK (status IN ('enqueued','running','succeeded','failed','dead','cancelled')),
      payload          TEXT NOT NULL,
      headers          TEXT,
      priority         INTEGER NOT NULL DEFAULT 0,
      attempts         INTEGER NOT NULL DEFAULT 0,
      max_retry        INTEGER NOT NULL,
      run_at           DOUBLE PRECISION NOT NULL,
      group_key        TEXT,
      unique_key       TEXT,
      trace_id         TEXT,
      actor_id         TEXT,
      tenant_id        TEXT,
      timeout_ms       DOUBLE PRECISION,
      lease_expires_at DOUBLE PRECISION,
      claimed_by       TEXT,
      error            TEXT,
      result_url       TEXT,
      result_mime      TEXT,
      result_size      DOUBLE PRECISION,
      output           TEXT,
      created_at       DOUBLE PRECISION NOT NULL,
      started_at       DOUBLE PRECISION,
      completed_at     DOUBLE PRECISION,
      updated_at       DOUBLE PRECISION NOT NULL
    );
    -- Partitions (added after the first release, hence ALTER): a process claims only the jobs of
    -- its own partition, so a till that forwards its jobs here runs the ones that read its own
    -- file; '' is the partition of everything else. Every claim-side index leads with it.
    ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS partition_key TEXT NOT NULL DEFAULT '';
    -- Jobs claimed ahead of a free slot spend no attempt until their handler starts (as in
    -- SQLite: src/jobs/sqlite-schema.ts, jobs v2). Rows written before counted it at claim.
    ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS attempt_started INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS requeues INTEGER NOT NULL DEFAULT 0;
    -- Named queues (src/jobs/sqlite-schema.ts, jobs v3): the queue a job waits in, and the
    -- history of its attempts that did not succeed (attempt-history.ts).
    ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS queue TEXT NOT NULL DEFAULT 'default';
    ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS attempts_log TEXT;
    -- Pause state, one row per queue ever paused or resumed: shared by every process on the table.
    CREATE TABLE IF NOT EXISTS ${table}_queues (name TEXT PRIMARY KEY, paused BOOLEAN NOT NULL, updated_at DOUBLE PRECISION NOT NULL);
    -- Succeeded jobs per queue, a row per queue and process (so that settles in many processes
    -- never wait on one counter row's lock); a queue's count is their sum. Seeded once, when
    -- the table is created, from the succeeded jobs already there.
    DO $$ BEGIN
      IF to_regclass('${table}_queue_succeeded') IS NULL THEN
        CREATE TABLE ${table}_queue_succeeded (queue TEXT NOT NULL, owner TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (queue, owner));
        INSERT INTO ${table}_queue_succeeded (queue, owner, n) SELECT queue, '', count(*) FROM ${table} WHERE status = 'succeeded' GROUP BY queue;
      END IF;
    END $$;
    DROP INDEX IF EXISTS ${table}_claim;
    DROP INDEX IF EXISTS ${table}_states;
    DROP INDEX IF EXISTS ${table}_available;
    DROP INDEX IF EXISTS ${table}_due;
    DROP INDEX IF EXISTS ${table}_leases;
    -- The claim reads one queue's range at a time, in claim order (a paused queue's backlog is never stepped over).
    CREATE INDEX IF NOT EXISTS ${table}_claimq ON ${table} (partition_key, queue, priority DESC, run_at, id) WHERE ${available};
    CREATE INDEX IF NOT EXISTS ${table}_next ON ${table} (partition_key, run_at) WHERE ${available};
    CREATE INDEX IF NOT EXISTS ${table}_holders ON ${table} (group_key) WHERE status IN ('running', 'failed') AND group_key IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ${table}_lease ON ${table} (partition_key, lease_expires_at) WHERE status = 'running';
    CREATE UNIQUE INDEX IF NOT EXISTS ${table}_unique ON ${table} (unique_key) WHERE unique_key IS NOT NULL AND status IN ('enqueued', 'running', 'failed');
    CREATE INDEX IF NOT EXISTS ${table}_actor ON ${table} (actor_id, created_at) WHERE actor_id IS NOT NULL;
    -- Counts for the dashboard and each process's /metrics: read from the index alone, and
    -- never over the succeeded jobs, which may be millions.
    CREATE INDEX IF NOT EXISTS ${table}_states2 ON ${table} (partition_key, status, type, queue) WHERE status <> 'succeeded';
    -- The job events' outbox (src/events/postgres-outbox.ts): each settle writes its jobs' events
    -- here in its own transaction; one relay at a time publishes them in seq order and deletes
    -- what the broker acknowledged. Empty, and never read, when no network bus is configured.
    CREATE TABLE IF NOT EXISTS ${table}_events (
      seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      created_at DOUBLE PRECISION NOT NULL,
      event      TEXT NOT NULL
    );`;
}
