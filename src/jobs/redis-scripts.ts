// Every write of the Redis queue as one Lua script, so that no client, in any process, ever
// sees half a transition. Redis runs a script to the end without interleaving, but a script
// that fails part-way keeps the writes it already made: so the TypeScript side validates every
// value first, every script reads what it needs before it writes, and each starts with the
// `#!lua` line, which makes Redis (≥ 7.0) refuse a writing script up front when memory is full
// instead of at its first write. All times are arguments (the injected clock), never TIME.
//
// Arguments: ARGV[1] is the key prefix, ARGV[2] a JSON object (numbers as strings, so that
// Lua's 14-digit number formatting never rounds a value on its way into a hash or a score).
//
// Keys, under "<prefix>:":
//   job:<id>          hash: the job and its status row (redis-rows.ts)
//   ids               every stored id (score 0: in id order, read by lex range)
//   listed:<s>|<type> the ids of one status and type, likewise: listings filtered by them
//   types             every job type stored (a status-only listing reads each type's key)
//   ready:<queue>     one queue's due, claimable jobs; score −priority, member `order` (claim order)
//   queues            every queue name that has held a job or been paused
//   paused            queue name → "1" while paused (read by every process's claim)
//   qcounts           "<queue>|<status>" → number of jobs, succeeded ones too (the queues page)
//   delayed           jobs not yet due, and failed ones waiting for their retry; score run_at
//   parked:<key>      due jobs of a group key held by another job; same scores and members
//   groups            group key → the job holding it (running, or failed awaiting its retry)
//   unique            unique key → the unfinished job holding it
//   leases            running job id → lease deadline
//   dispatch          stream of claims; consumer group "workers", one consumer per RedisQueue
//   finished:<status> succeeded / dead / cancelled ids by completed_at (retention)
//   counts            "<status>|<type>" → number of jobs, all but succeeded (stateCounts)
//   available         pub/sub channel: jobs may have become claimable
import { ORDER_DIGITS } from "./redis-rows.ts";

const PRELUDE = `#!lua
local P = ARGV[1]
local A = cjson.decode(ARGV[2])
local GROUP = 'workers'
local K = { queues = P .. ':queues', paused = P .. ':paused', qcounts = P .. ':qcounts', delayed = P .. ':delayed', groups = P .. ':groups', unique = P .. ':unique', leases = P .. ':leases',
  ids = P .. ':ids', types = P .. ':types', counts = P .. ':counts', dispatch = P .. ':dispatch', channel = P .. ':available' }
local function job(id) return P .. ':job:' .. id end
local function ready(q) return P .. ':ready:' .. (q or 'default') end
local function parked(gk) return P .. ':parked:' .. gk end
local function listed(status, jtype) return P .. ':listed:' .. status .. '|' .. jtype end

-- Succeeded jobs are not counted: there may be millions, and stateCounts leaves them out.
local function tally(status, jtype, delta)
  if status == 'succeeded' then return end
  local field = status .. '|' .. jtype
  if redis.call('HINCRBY', K.counts, field, delta) <= 0 then redis.call('HDEL', K.counts, field) end
end

-- Per queue, succeeded ones included (the queues page shows them; a counter costs no scan).
local function qtally(q, status, delta)
  local field = (q or 'default') .. '|' .. status
  if redis.call('HINCRBY', K.qcounts, field, delta) <= 0 then redis.call('HDEL', K.qcounts, field) end
end

local function set_status(id, jtype, from, to)
  redis.call('HSET', job(id), 'status', to)
  tally(from, jtype, -1)
  tally(to, jtype, 1)
  local q = redis.call('HGET', job(id), 'queue')
  qtally(q, from, -1)
  qtally(q, to, 1)
  redis.call('ZREM', listed(from, jtype), id)
  redis.call('ZADD', listed(to, jtype), 0, id)
end

-- A due job joins the claim order, unless its group key is held by another job: then it waits
-- in the key's parked set, so that claims step over a busy key's backlog once, not every time.
local function make_ready(id)
  local j = redis.call('HMGET', job(id), 'group_key', 'priority', 'order', 'queue')
  if not j[3] then return end
  if j[1] then
    local holder = redis.call('HGET', K.groups, j[1])
    if holder and holder ~= id then
      redis.call('ZADD', parked(j[1]), -tonumber(j[2]), j[3])
      return
    end
  end
  redis.call('ZADD', ready(j[4]), -tonumber(j[2]), j[3])
end

local function place(id, now)
  local run_at = redis.call('HGET', job(id), 'run_at')
  if tonumber(run_at) <= now then make_ready(id) else redis.call('ZADD', K.delayed, run_at, id) end
end

-- Frees a group key (if this job held it) and, once free, moves the first parked job of the key
-- back into the claim order, where it competes with any other job of the key by claim order.
local function release_key(gk, id)
  if redis.call('HGET', K.groups, gk) == id then redis.call('HDEL', K.groups, gk) end
  if redis.call('HEXISTS', K.groups, gk) == 1 then return end
  local head = redis.call('ZPOPMIN', parked(gk))
  if head[1] then
    local q = redis.call('HGET', job(string.sub(head[1], ${ORDER_DIGITS + 1})), 'queue')
    redis.call('ZADD', ready(q), head[2], head[1])
  end
end

local function finished(id, uk, status, at)
  if uk and redis.call('HGET', K.unique, uk) == id then redis.call('HDEL', K.unique, uk) end
  redis.call('ZADD', P .. ':finished:' .. status, at, id)
end

-- Stores a job, or answers the id of the unfinished job holding its unique key.
local function insert(j, now)
  if j.unique_key then
    local holder = redis.call('HGET', K.unique, j.unique_key)
    if holder then return holder end
    redis.call('HSET', K.unique, j.unique_key, j.id)
  end
  redis.call('HSET', job(j.id), unpack(j.fields))
  redis.call('ZADD', K.ids, 0, j.id)
  redis.call('SADD', K.types, j.type)
  redis.call('ZADD', listed('enqueued', j.type), 0, j.id)
  tally('enqueued', j.type, 1)
  redis.call('SADD', K.queues, j.queue)
  qtally(j.queue, 'enqueued', 1)
  place(j.id, now)
  return j.id
end
`;

/** { now, jobs: RedisInsert[] } → ids (an existing id where a unique key was held). */
export const ENQUEUE = `${PRELUDE}
local now = tonumber(A.now)
local ids = {}
for i, j in ipairs(A.jobs) do ids[i] = insert(j, now) end
redis.call('PUBLISH', K.channel, '')
return ids
`;

/**
 * { now, owner, max, start_now, started, due_batch, lease_until, outcomes: [{ id, kind, at, run_at?, set, del, letter? }] }
 * → { indexes of the applied outcomes, HGETALL of each claimed job in claim order }.
 *
 * Starts first: each job in `started` (claimed ahead of a free slot, now begun) has its attempt
 * counted. Only an attempt that started may be spent by a crash (see TAKE_EXPIRED).
 *
 * Settle: an outcome applies only to a job still running under this owner (else it is dropped:
 * another owner took the job over). Its stream entry is acknowledged and deleted. `failed`
 * keeps the group key (later jobs of the key never overtake a job awaiting its retry); the
 * others free it. A dead letter is stored by the same script that marks its job dead.
 *
 * Claim: jobs fallen due move from `delayed` into the claim order (each moves once, at most
 * `due_batch` per claim); then the
 * first ready jobs are popped in claim order, a job whose key is held is parked (once), and
 * each chosen job is marked running, takes its key and lease, and is added to the dispatch
 * stream; ONE non-blocking XREADGROUP then delivers those entries to this owner, so the
 * group's pending-entries list is the set of running jobs, per owner (XPENDING shows it).
 */
export const SETTLE_AND_CLAIM = `${PRELUDE}
local now, owner, max, start_now = tonumber(A.now), A.owner, tonumber(A.max), tonumber(A.start_now)
local applied, wake = {}, false
for _, id in ipairs(A.started) do
  local j = redis.call('HMGET', job(id), 'status', 'claimed_by', 'attempt_started')
  if j[1] == 'running' and j[2] == owner and j[3] == '0' then
    redis.call('HINCRBY', job(id), 'attempts', 1)
    redis.call('HSET', job(id), 'attempt_started', '1', 'started_at', A.now, 'updated_at', A.now)
  end
end
for i, o in ipairs(A.outcomes) do
  local id = o.id
  local j = redis.call('HMGET', job(id), 'status', 'claimed_by', 'type', 'group_key', 'unique_key', 'entry', 'attempt_started')
  if j[1] == 'running' and j[2] == owner then
    if j[6] then
      redis.call('XACK', K.dispatch, GROUP, j[6])
      redis.call('XDEL', K.dispatch, j[6])
    end
    redis.call('ZREM', K.leases, id)
    -- A succeeded job keeps claimed_by: the worker of its last attempt, for its history.
    if o.kind ~= 'succeeded' then redis.call('HDEL', job(id), 'claimed_by') end
    redis.call('HDEL', job(id), 'entry', unpack(o.del))
    redis.call('HSET', job(id), unpack(o.set))
    -- The attempt's history entry (attempt-history.ts), appended to the JSON array as text.
    if o.entry then
      local log = redis.call('HGET', job(id), 'attempts_log')
      if log then log = string.sub(log, 1, -2) .. ',' .. o.entry .. ']' else log = '[' .. o.entry .. ']' end
      redis.call('HSET', job(id), 'attempts_log', log)
    end
    local to = o.kind == 'released' and 'enqueued' or o.kind
    set_status(id, j[3], 'running', to)
    -- A claimed-ahead job that started and finished between two writes: its outcome counts it.
    if o.kind ~= 'released' and j[7] == '0' then
      redis.call('HINCRBY', job(id), 'attempts', 1)
      redis.call('HSET', job(id), 'attempt_started', '1')
    end
    if o.kind == 'failed' then
      redis.call('ZADD', K.delayed, o.run_at, id)
    else
      -- A released attempt is given back only if it had started (a claimed-ahead one spent none).
      if o.kind == 'released' then
        if j[7] ~= '0' then redis.call('HINCRBY', job(id), 'attempts', -1) end
        if o.requeue then redis.call('HINCRBY', job(id), 'requeues', 1) end
      else
        finished(id, j[5], to, o.at)
      end
      if j[4] then
        release_key(j[4], id)
        wake = true
      end
      if o.kind == 'released' then
        place(id, now)
        wake = true
      end
    end
    if o.letter then
      insert(o.letter, now)
      wake = true
    end
    applied[#applied + 1] = i - 1
  end
end
if wake then redis.call('PUBLISH', K.channel, '') end

local claimed = {}
if max > 0 then
  -- Creating the group here (a no-op when it exists) means a claim never fails half-way on it.
  redis.pcall('XGROUP', 'CREATE', K.dispatch, GROUP, '$', 'MKSTREAM')
  -- At most due_batch per claim: a million jobs falling due at once (after an outage) must not
  -- hold Redis for seconds; the rest move on the next claims.
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', K.delayed, '-inf', A.now, 'LIMIT', 0, tonumber(A.due_batch))) do
    redis.call('ZREM', K.delayed, id)
    make_ready(id)
  end
  -- The open queues (not paused), each with what it may still take: its allowance or max.
  local left = {}
  for _, q in ipairs(redis.call('SMEMBERS', K.queues)) do
    if redis.call('HGET', K.paused, q) ~= '1' then
      local n = A.allowances[q] and tonumber(A.allowances[q]) or max
      if n > 0 and redis.call('EXISTS', ready(q)) == 1 then left[q] = n end
    end
  end
  local chosen = {}
  while #chosen < max do
    -- The first job in claim order across the open queues: lowest score (−priority), then member.
    local top, from = nil, nil
    for q in pairs(left) do
      local head = redis.call('ZRANGE', ready(q), 0, 0, 'WITHSCORES')
      if head[1] then
        local score = tonumber(head[2])
        if not top or score < top[2] or (score == top[2] and head[1] < top[1]) then top, from = { head[1], score }, q end
      else
        left[q] = nil
      end
    end
    if not top then break end
    redis.call('ZREM', ready(from), top[1])
    local id = string.sub(top[1], ${ORDER_DIGITS + 1})
    local j = redis.call('HMGET', job(id), 'status', 'type', 'group_key')
    -- A member whose job is no longer waiting (it cannot happen, but costs nothing) is dropped.
    if j[1] == 'enqueued' or j[1] == 'failed' then
      local holder = j[3] and redis.call('HGET', K.groups, j[3])
      if holder and holder ~= id then
        redis.call('ZADD', parked(j[3]), top[2], top[1])
      else
        if j[3] then redis.call('HSET', K.groups, j[3], id) end
        -- The first start_now start at once (attempt counted now); the rest are claimed ahead.
        if #chosen < start_now then
          redis.call('HINCRBY', job(id), 'attempts', 1)
          redis.call('HSET', job(id), 'attempt_started', '1', 'started_at', A.now, 'updated_at', A.now, 'claimed_by', owner)
        else
          redis.call('HSET', job(id), 'attempt_started', '0', 'updated_at', A.now, 'claimed_by', owner)
        end
        set_status(id, j[2], j[1], 'running')
        redis.call('ZADD', K.leases, A.lease_until, id)
        redis.call('XADD', K.dispatch, '*', 'job', id)
        chosen[#chosen + 1] = id
        left[from] = left[from] - 1
        if left[from] <= 0 then left[from] = nil end
      end
    end
  end
  if #chosen > 0 then
    local mine = {}
    for _, id in ipairs(chosen) do mine[id] = true end
    local reply = redis.call('XREADGROUP', 'GROUP', GROUP, owner, 'STREAMS', K.dispatch, '>')
    for _, entry in ipairs(reply and reply[1][2] or {}) do
      local id = entry[2][2]
      if mine[id] then
        redis.call('HSET', job(id), 'entry', entry[1])
      else
        -- Not this claim's: left undelivered by a script stopped part-way. Its job has no entry.
        redis.call('XACK', K.dispatch, GROUP, entry[1])
        redis.call('XDEL', K.dispatch, entry[1])
      end
    end
    for _, id in ipairs(chosen) do claimed[#claimed + 1] = redis.call('HGETALL', job(id)) end
  end
end
return { applied, claimed }
`;

/** { owner, lease_until, ids } */
export const EXTEND_LEASES = `${PRELUDE}
for _, id in ipairs(A.ids) do
  local j = redis.call('HMGET', job(id), 'status', 'claimed_by')
  if j[1] == 'running' and j[2] == A.owner then redis.call('ZADD', K.leases, 'XX', A.lease_until, id) end
end
return 0
`;

/**
 * { now, owner, lease_until, max_requeues } → HGETALL of each job whose lease lapsed, now this
 * owner's: its stream entry moves to this consumer with XCLAIM (XAUTOCLAIM would choose by idle
 * time, which the server measures on its own clock; leases here are on the injected clock).
 * A lapsed job claimed ahead whose handler never started goes back to waiting instead, without
 * spending an attempt, up to max_requeues times (then its attempt is counted and it is taken).
 */
export const TAKE_EXPIRED = `${PRELUDE}
local now = tonumber(A.now)
local taken, wake = {}, false
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K.leases, '-inf', A.now)) do
  local j = redis.call('HMGET', job(id), 'status', 'entry', 'attempt_started', 'requeues', 'type', 'group_key')
  if j[1] == 'running' and j[3] == '0' and tonumber(j[4] or '0') < tonumber(A.max_requeues) then
    if j[2] then
      redis.call('XACK', K.dispatch, GROUP, j[2])
      redis.call('XDEL', K.dispatch, j[2])
    end
    redis.call('ZREM', K.leases, id)
    redis.call('HDEL', job(id), 'claimed_by', 'entry')
    redis.call('HINCRBY', job(id), 'requeues', 1)
    redis.call('HSET', job(id), 'updated_at', A.now)
    set_status(id, j[5], 'running', 'enqueued')
    if j[6] then release_key(j[6], id) end
    place(id, now)
    wake = true
  elseif j[1] == 'running' then
    if j[2] then redis.call('XCLAIM', K.dispatch, GROUP, A.owner, '0', j[2], 'JUSTID') end
    if j[3] == '0' then redis.call('HINCRBY', job(id), 'attempts', 1) end
    redis.call('HSET', job(id), 'claimed_by', A.owner, 'attempt_started', '1')
    redis.call('ZADD', K.leases, A.lease_until, id)
    taken[#taken + 1] = redis.call('HGETALL', job(id))
  else
    redis.call('ZREM', K.leases, id)
  end
end
if wake then redis.call('PUBLISH', K.channel, '') end
return taken
`;

/** { id, now } → CancelResult. A job awaiting its retry releases the group key it held. */
export const CANCEL = `${PRELUDE}
local id = A.id
local j = redis.call('HMGET', job(id), 'status', 'type', 'group_key', 'unique_key', 'order', 'queue')
if not j[1] then return 'not_found' end
if j[1] == 'running' then return 'running' end
if j[1] ~= 'enqueued' and j[1] ~= 'failed' then return 'finished' end
redis.call('ZREM', ready(j[6]), j[5])
redis.call('ZREM', K.delayed, id)
if j[3] then redis.call('ZREM', parked(j[3]), j[5]) end
redis.call('HSET', job(id), 'completed_at', A.now, 'updated_at', A.now)
set_status(id, j[2], j[1], 'cancelled')
finished(id, j[4], 'cancelled', A.now)
-- Also when it did not hold the key: it may have been the parked job just moved back into
-- the claim order, and the next one must take its place.
if j[3] then release_key(j[3], id) end
redis.call('PUBLISH', K.channel, '')
return 'cancelled'
`;

/** { id, now, order } → RetryResult. A dead job goes back to enqueued with attempts 0. */
export const RETRY = `${PRELUDE}
local id = A.id
local j = redis.call('HMGET', job(id), 'status', 'type', 'unique_key')
if not j[1] then return 'not_found' end
if j[1] ~= 'dead' then return 'not_dead' end
redis.call('HSET', job(id), 'attempts', '0', 'run_at', A.now, 'order', A.order, 'updated_at', A.now)
redis.call('HDEL', job(id), 'completed_at')
set_status(id, j[2], 'dead', 'enqueued')
redis.call('ZREM', P .. ':finished:dead', id)
-- Takes its unique key back unless another unfinished job has taken it meanwhile.
if j[3] then redis.call('HSETNX', K.unique, j[3], id) end
place(id, tonumber(A.now))
redis.call('PUBLISH', K.channel, '')
return 'retried'
`;

/** { statuses, before, limit } → how many finished jobs were deleted. */
export const PRUNE = `${PRELUDE}
local n, limit = 0, tonumber(A.limit)
for _, status in ipairs(A.statuses) do
  if n >= limit then break end
  local finished_key = P .. ':finished:' .. status
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', finished_key, '-inf', '(' .. A.before, 'LIMIT', 0, limit - n)) do
    local j = redis.call('HMGET', job(id), 'type', 'queue')
    redis.call('DEL', job(id))
    redis.call('ZREM', K.ids, id)
    redis.call('ZREM', finished_key, id)
    if j[1] then
      tally(status, j[1], -1)
      qtally(j[2], status, -1)
      redis.call('ZREM', listed(status, j[1]), id)
    end
    n = n + 1
  end
end
return n
`;

/** { owner } → 1 if it forgot the owner's consumer: only when it holds no running job (on close, or a dead process's). */
export const FORGET_CONSUMER = `${PRELUDE}
local pending = redis.pcall('XPENDING', K.dispatch, GROUP, '-', '+', 1, A.owner)
if type(pending) == 'table' and not pending.err and #pending == 0 then
  redis.call('XGROUP', 'DELCONSUMER', K.dispatch, GROUP, A.owner)
  return 1
end
return 0
`;

/** { id } → "deleted" | "not_found" | "not_finished": one finished job and its history. */
export const DELETE = `${PRELUDE}
local id = A.id
local j = redis.call('HMGET', job(id), 'status', 'type', 'queue')
if not j[1] then return 'not_found' end
if j[1] ~= 'succeeded' and j[1] ~= 'dead' and j[1] ~= 'cancelled' then return 'not_finished' end
redis.call('DEL', job(id))
redis.call('ZREM', K.ids, id)
redis.call('ZREM', P .. ':finished:' .. j[1], id)
redis.call('ZREM', listed(j[1], j[2]), id)
tally(j[1], j[2], -1)
qtally(j[3], j[1], -1)
return 'deleted'
`;

/** { name, paused: "1" | "0", if_unset? } → 0. A resumed queue wakes every process's workers. */
export const SET_PAUSED = `${PRELUDE}
if A.if_unset and redis.call('HEXISTS', K.paused, A.name) == 1 then return 0 end
redis.call('SADD', K.queues, A.name)
redis.call('HSET', K.paused, A.name, A.paused)
if A.paused == '0' then redis.call('PUBLISH', K.channel, '') end
return 0
`;

/**
 * {} → 0. Brings keys written before named queues up to date, once: the one claim order
 * becomes the default queue's, and the per-queue counts are seeded from the per-type ones
 * (succeeded: from the finished set). A no-op when qcounts exists or nothing was stored.
 */
export const MIGRATE_QUEUES = `${PRELUDE}
local old = P .. ':ready'
if redis.call('EXISTS', old) == 1 then
  redis.call('ZUNIONSTORE', ready('default'), 2, ready('default'), old)
  redis.call('DEL', old)
  redis.call('SADD', K.queues, 'default')
end
if redis.call('EXISTS', K.qcounts) == 0 and redis.call('EXISTS', K.ids) == 1 then
  local counts = redis.call('HGETALL', K.counts)
  for i = 1, #counts, 2 do
    local status = string.sub(counts[i], 1, string.find(counts[i], '|', 1, true) - 1)
    redis.call('HINCRBY', K.qcounts, 'default|' .. status, tonumber(counts[i + 1]))
  end
  local succeeded = redis.call('ZCARD', P .. ':finished:succeeded')
  if succeeded > 0 then redis.call('HSET', K.qcounts, 'default|succeeded', succeeded) end
  redis.call('SADD', K.queues, 'default')
end
return 0
`;
