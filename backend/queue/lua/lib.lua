-- lib.lua: helpers shared by every script; `scripts.rs` prepends this file to
-- each script, so a script is this file plus its own body.
--
-- Every script takes KEYS[1] = the key prefix, `{gavel}:` by default. The
-- braces are a Redis Cluster hash tag: KEYS[1] routes the call to the slot of
-- `{gavel}`, and every key a script derives from the prefix lives in that same
-- slot, so the scripts stay valid on a cluster.
--
-- Keys (P = prefix; `src/keys.rs` builds the names the Rust side uses):
--   P..'seq'                   counter: FIFO position of new jobs
--   P..'pending'               zset jid -> FIFO position (every queued job)
--   P..'queue:'..q             zset jid -> FIFO position: the queued jobs of
--                              dispatch queue q, which is an owner (its
--                              submissions and runs) or owner..':rejudge'
--                              (the admin's rejudges of its submissions)
--   P..'ready:'..class         zset q -> start tag (virtual time): the
--                              queues of priority class `class` (contest,
--                              practice, rejudge) with queued jobs
--   P..'vclock'                hash class -> the class's virtual time (the
--                              start tag of the last job leased)
--   P..'vfinish'               hash q -> q's finish tag when it last ran
--                              out of queued jobs
--   P..'creates:'..owner       zset sid -> created_at (ms): the owner's
--                              creates of the last minute (its rate quota)
--   P..'refused'               hash owner..':'..reason -> creates refused
--                              by a quota (reason: rate_limited, queue_full)
--   P..'leases'                zset jid -> lease deadline (ms, Redis clock)
--   P..'job:'..jid             hash: sub, spec, language, checker, labels, noj,
--                              queue (its dispatch queue q), cost (its
--                              estimated runner time, ms: cases x time
--                              limit), seq, state (queued|leased|done|failed|
--                              cancelled|superseded), attempt, lease, runner,
--                              done_lease (the lease that completed it),
--                              next_job, next_lease (the job leased with
--                              its completion, see complete_next.lua);
--                              expires a day after the job ends
--   P..'sub:'..sid             hash: problem, revision, source, spec,
--                              language, checker, labels, noj, owner, kind,
--                              created_at, job, status, score, max_score,
--                              attempt, result, message, finished_at, seq,
--                              cost (its jobs' cost)
--                              (noj: what Normal-OJ's runners need of the
--                              job, JSON; empty when they cannot run it;
--                              kind: '' for a submission, 'run' for a code
--                              run, whose problem, revision, source and
--                              checker are empty and whose final status is
--                              a run's: OK, RE, CE, TLE, MLE, OLE, JE,
--                              CANCELLED)
--   P..'problem:'..id          string: the problem's record (JSON)
--   P..'problem-revision:'..id string: its revision (manifest digest), what
--                              a submission built from the record checks
--   P..'problems'              set of the stored problems' ids
--   P..'revision:'..rev        set of the blob digests of a problem revision
--   P..'compiled-checker:'..rev  string: the blob (JSON `{digest, size}`) of
--                              the revision's checker program as a runner
--                              compiled it from C/C++ source; its digest is
--                              also in the revision's set
--   P..'sub:'..sid..':events'  list of the current job's events (JSON)
--   P..'submissions'           zset sid -> created_at
--   P..'runs'                  zset sid -> created_at (code runs)
--   P..'idem:'..owner..':'..key  hash: fingerprint, id (the submission or
--                              run an owner's Idempotency-Key created, and
--                              the fingerprint of that request); expires
--                              a day after the create (IDEMPOTENCY_TTL)
--   P..'runner:'..rid          hash: name, labels, slots, languages,
--                              checkers, plugins, token_hash, registered_at,
--                              last_seen, dialect ('' for Gavel's own runners,
--                              'normal-oj'), ttl (ms; expires when the runner
--                              is quiet that long)
--   P..'runner:'..rid..':jobs'   set of jids the runner holds leases on
--   P..'runner:'..rid..':cancel' set of jids the runner must stop
--   P..'runner-token:'..sha    string rid (expires with the runner)
--   P..'runners'               zset rid -> last_seen
--   P..'languages'             zset language -> last advertised
--   P..'stats'                 hash of counters: reclaims, completed, aborts,
--                              je:<reason>
--   P..'secret:'..name         string: a random key shared by every backend
--                              instance (signing code URLs)
--   P..'client:'..cid          hash: name, and what the admin set ('' or
--                              absent: the default): class (contest|
--                              practice), weight (its share of runner
--                              time), creates_per_minute, max_queued (its
--                              quotas); see client_set.lua
--   P..'client-token:'..sha    string cid (the client a token is for)
--   P..'webhook:'..owner       hash: url, secret (where the owner's final
--                              verdicts are posted)
--   P..'webhook:'..owner..':deliveries'  list of its newest delivery ids
--   P..'delivery:'..did        hash: owner, url, sub, body, state (pending|
--                              delivered|failed), attempts, last_code,
--                              last_error, created_at, next_at, delivered_at;
--                              expires a week after it ends
--   P..'deliveries:due'        zset did -> when to (re)try it (ms)
--   P..'delivery-seq'          counter: delivery ids
--   P..'schema'                string: the version of this key schema and
--                              these scripts (`SCHEMA_VERSION` in
--                              `src/schema.rs`); set by the first backend,
--                              a backend refuses to start on a newer one
--   P..'retention'             hash: runs_ms, events_ms (how long a finished
--                              code run, and a finished submission's event
--                              log, is kept; 0 = forever); written by every
--                              backend at start and at each sweep
--   P..'gc-lock'               string: the token of the backend instance
--                              running the blob sweep; expires
--   P..'ack-barrier'           counter: bumped by every acknowledged write
--                              just before its WAIT (written by the Rust
--                              side, `Queue::acknowledged`), so the WAIT
--                              covers everything the primary had then, even
--                              when the write itself changed nothing
-- A finished code run's hash and event log expire `runs_ms` after it
-- finished (`expire_finished`; its artifacts are inline in the hash); a
-- finished submission's event log `events_ms` after (its record stays).
-- `retention.lua` drops expired runs from P..'runs'.
-- Channels: P..'wake' (a job became claimable: its id and what it needs of
-- a runner, see `publish_wake`; or 'capabilities': a runner's changed),
-- P..'events:'..sid (a new event was appended; the payload is its seq).
--
-- Times come from the Redis server's clock (TIME), so several backend
-- instances agree on every deadline.
--
-- Fair dispatch (`claim_job`): each queued job is in P..'pending' and in
-- its dispatch queue. A claim looks at the priority classes best first
-- (contest, practice, rejudge); within a class, at its ready queues in
-- order of their start tags, a page of each in turn, until it finds a job
-- the runner can run or has read the scan window's worth of jobs. Leasing
-- a job of cost c from queue q moves q's tag on by c / (its owner's
-- weight): start-time fair queueing, fair in estimated runner time. A queue
-- that gets a job after it ran dry starts at max(the class's clock, its
-- finish tag): an idle owner banks no credit, and a busy one keeps its debt.

local P = KEYS[1]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function job_key(jid) return P .. 'job:' .. jid end
local function sub_key(sid) return P .. 'sub:' .. sid end
local function runner_key(rid) return P .. 'runner:' .. rid end
-- Owners are ids without ':', so an owner's keys never meet another's.
local function idempotency_key(owner, key) return P .. 'idem:' .. owner .. ':' .. key end

-- A space-separated list as a set (ids never contain spaces).
local function set_of(list)
  local set = {}
  for word in string.gmatch(list or '', '%S+') do set[word] = true end
  return set
end

-- Appends an event to a submission's log and tells subscribers.
local function append_event(sid, jid, event)
  local seq = redis.call('HINCRBY', sub_key(sid), 'seq', 1)
  event.seq = seq
  event.job_id = jid
  redis.call('RPUSH', sub_key(sid) .. ':events', cjson.encode(event))
  redis.call('PUBLISH', P .. 'events:' .. sid, seq)
end

-- Tells waiting runners that job `jid` is claimable. The payload is the job
-- id and what a runner needs to run it (its language, checker, labels, and
-- 1 if it has a Normal-OJ payload), tab-separated; `waiters.rs` reads it.
local function publish_wake(jid, language, checker, labels, noj)
  redis.call('PUBLISH', P .. 'wake', table.concat({ jid, language or '', checker or '',
    labels or '', (noj or '') ~= '' and '1' or '0' }, '\t'))
end

-- Asks runner `rid` (if it is still registered) to stop job `jid`.
local function notify_cancel(rid, jid)
  if not rid or rid == '' then return end
  local ttl = redis.call('PTTL', runner_key(rid))
  if ttl > 0 then
    redis.call('SADD', runner_key(rid) .. ':cancel', jid)
    redis.call('PEXPIRE', runner_key(rid) .. ':cancel', ttl)
  end
end

-- Drops the lease on `jid` held by `rid`.
local function drop_lease(jid, rid)
  redis.call('ZREM', P .. 'leases', jid)
  if rid and rid ~= '' then redis.call('SREM', runner_key(rid) .. ':jobs', jid) end
end

-- How long an ended job's hash is kept (for idempotent repeats).
local ENDED_JOB_TTL_MS = 24 * 3600 * 1000

-- The fields of a submission whose job `jid` was just queued.
local function pending_fields(jid)
  return { 'job', jid, 'status', 'PENDING', 'score', 0, 'attempt', 0, 'result', '',
    'message', '', 'finished_at', '' }
end

-- A number as a string that Redis reads back exactly (virtual times).
local function num(x) return string.format('%.17g', x) end

-- The cost of a job whose record has none (queued by an older backend):
-- one case of one second.
local DEFAULT_COST = 1000

-- The priority classes, best first. A client's jobs are in the class the
-- admin set on it ('practice' unless set); the admin's rejudges of its
-- submissions are in 'rejudge', behind every live job.
local CLASSES = { 'contest', 'practice', 'rejudge' }
local REJUDGE_SUFFIX = ':rejudge'

-- The owner whose dispatch queue `q` is, and whether it is the queue of
-- the admin's rejudges of its submissions.
local function queue_owner(q)
  if string.sub(q, -#REJUDGE_SUFFIX) == REJUDGE_SUFFIX then
    return string.sub(q, 1, -#REJUDGE_SUFFIX - 1), true
  end
  return q, false
end

-- The priority class of dispatch queue `q` now.
local function class_of(q)
  local owner, rejudges = queue_owner(q)
  if rejudges then return 'rejudge' end
  if redis.call('HGET', P .. 'client:' .. owner, 'class') == 'contest' then return 'contest' end
  return 'practice'
end

-- The share of runner time queue `q` gets against others of its class: its
-- owner's weight (1 unless the admin set one).
local function weight_of(q)
  local weight = tonumber(redis.call('HGET', P .. 'client:' .. queue_owner(q), 'weight'))
  if not weight or weight <= 0 then return 1 end
  return weight
end

-- Makes queue `q` ready in its class if it is not: its start tag is the
-- class's clock, or its own finish tag if that is later.
local function activate(q)
  local class = class_of(q)
  local ready = P .. 'ready:' .. class
  if redis.call('ZSCORE', ready, q) then return end
  local clock = tonumber(redis.call('HGET', P .. 'vclock', class)) or 0
  local finish = tonumber(redis.call('HGET', P .. 'vfinish', q)) or 0
  redis.call('ZADD', ready, num(math.max(clock, finish)), q)
end

-- Takes queue `q` out of class `class`'s ready set, keeping `finish` (its
-- tag if nil) as its finish tag.
local function deactivate(q, class, finish)
  local ready = P .. 'ready:' .. class
  finish = finish or redis.call('ZSCORE', ready, q)
  if finish then redis.call('HSET', P .. 'vfinish', q, finish) end
  redis.call('ZREM', ready, q)
end

-- The dispatch queue of job `jid` (a job queued before there were
-- dispatch queues is its submission's owner's).
local function queue_of(jid, sid)
  local q = redis.call('HGET', job_key(jid), 'queue')
  if q and q ~= '' then return q end
  q = redis.call('HGET', sub_key(sid), 'owner') or 'admin'
  redis.call('HSET', job_key(jid), 'queue', q)
  return q
end

-- Puts job `jid` in the queue (P..'pending' and its dispatch queue `q`) at
-- FIFO position `seq`.
local function queue_job(jid, q, seq)
  redis.call('ZADD', P .. 'pending', seq, jid)
  redis.call('ZADD', P .. 'queue:' .. q, seq, jid)
  activate(q)
end

-- Takes queued job `jid` out of the queue; its dispatch queue `q` leaves
-- the ready set once empty.
local function unqueue(jid, q)
  redis.call('ZREM', P .. 'pending', jid)
  redis.call('ZREM', P .. 'queue:' .. q, jid)
  if redis.call('EXISTS', P .. 'queue:' .. q) == 0 then deactivate(q, class_of(q)) end
end

-- Queues a new job `jid` for submission `sid`, which already points at it
-- (`pending_fields`) and has an empty event log, and tells waiting runners.
-- `job`: what the job needs of the submission (spec, language, checker,
-- labels, noj, cost) and its dispatch queue (queue).
local function enqueue_job(jid, sid, job)
  local seq = redis.call('INCR', P .. 'seq')
  redis.call('HSET', job_key(jid), 'sub', sid, 'spec', job.spec, 'language', job.language,
    'checker', job.checker, 'labels', job.labels, 'noj', job.noj or '', 'seq', seq,
    'queue', job.queue, 'cost', job.cost, 'state', 'queued', 'attempt', 0, 'lease', '',
    'runner', '')
  queue_job(jid, job.queue, seq)
  append_event(sid, jid, { type = 'queued', attempt = 0 })
  publish_wake(jid, job.language, job.checker, job.labels, job.noj)
end

-- Ends job `jid` in `state` without a result (cancelled, superseded): it
-- leaves the queue or its runner is told to stop.
local function abandon(jid, state)
  local job = redis.call('HMGET', job_key(jid), 'state', 'runner', 'sub')
  if job[1] == 'leased' then
    drop_lease(jid, job[2])
    notify_cancel(job[2], jid)
  elseif job[1] == 'queued' then
    unqueue(jid, queue_of(jid, job[3]))
  else
    return
  end
  redis.call('HSET', job_key(jid), 'state', state, 'lease', '')
  redis.call('PEXPIRE', job_key(jid), ENDED_JOB_TTL_MS)
end

-- Puts a job back at its place in the queue and tells waiting runners.
local function requeue(jid, sid, attempt)
  local job = redis.call('HMGET', job_key(jid), 'seq', 'language', 'checker', 'labels', 'noj')
  redis.call('HSET', job_key(jid), 'state', 'queued', 'lease', '', 'runner', '')
  queue_job(jid, queue_of(jid, sid), job[1])
  if redis.call('HGET', sub_key(sid), 'job') == jid then
    redis.call('HSET', sub_key(sid), 'status', 'PENDING')
    append_event(sid, jid, { type = 'queued', attempt = attempt })
  end
  publish_wake(jid, job[2], job[3], job[4], job[5])
end

-- Quotas: how long a create is counted against its owner's rate, and when
-- a client refused for a full queue is told to try again.
local MINUTE_MS = 60000
local QUEUE_FULL_RETRY_MS = 2000

-- Whether `owner` is over a quota for one more create now, by its client's
-- limits or, where the admin set none, `defaults` ({per_minute,
-- max_queued}); the admin has none. nil if not; else {reason, ms until a
-- retry may pass} (reason: 'queue_full', its live jobs queued at once;
-- 'rate_limited', its creates in the last minute). Reads only.
local function over_quota(owner, now, defaults)
  if owner == 'admin' then return nil end
  local limits = redis.call('HMGET', P .. 'client:' .. owner, 'creates_per_minute', 'max_queued')
  local max_queued = tonumber(limits[2]) or defaults.max_queued
  if redis.call('ZCARD', P .. 'queue:' .. owner) >= max_queued then
    return { 'queue_full', QUEUE_FULL_RETRY_MS }
  end
  local per_minute = tonumber(limits[1]) or defaults.per_minute
  local creates = P .. 'creates:' .. owner
  local since = '(' .. (now - MINUTE_MS)
  local recent = redis.call('ZCOUNT', creates, since, '+inf')
  if recent < per_minute then return nil end
  -- Room comes when the create `recent - per_minute` places from the
  -- oldest of the minute leaves it.
  local freeing = redis.call('ZRANGEBYSCORE', creates, since, '+inf', 'WITHSCORES', 'LIMIT',
    recent - per_minute, 1)
  return { 'rate_limited', math.max(tonumber(freeing[2]) + MINUTE_MS - now, 1) }
end

-- Counts a refusal by a quota (`over_quota`'s reason) for `owner`.
local function count_refusal(owner, reason)
  redis.call('HINCRBY', P .. 'refused', owner .. ':' .. reason, 1)
end

-- Counts create `sid` against `owner`'s rate quota.
local function count_create(owner, sid, now)
  if owner == 'admin' then return end
  local creates = P .. 'creates:' .. owner
  redis.call('ZADD', creates, now, sid)
  redis.call('ZREMRANGEBYSCORE', creates, '-inf', now - MINUTE_MS)
  redis.call('PEXPIRE', creates, MINUTE_MS)
end

-- How many deliveries an owner's list keeps.
local DELIVERIES_LISTED = 100

-- What the end of submission (or run) `sid`'s job needs of it: its current
-- job, kind, owner, problem, language and max score (see `finish`).
local function submission_of(sid)
  local sub = redis.call('HMGET', sub_key(sid), 'job', 'kind', 'owner', 'problem', 'language',
    'max_score')
  return { job = sub[1], kind = sub[2] or '', owner = sub[3], problem = sub[4],
    language = sub[5], max_score = sub[6] }
end

-- Queues a notification of submission (or run) `sid`'s final verdict to its
-- owner's webhook, if the owner has one. `sub`: `submission_of(sid)`.
local function queue_webhook(sid, sub, status, score, message, now)
  if not sub.owner then return end
  local url = redis.call('HGET', P .. 'webhook:' .. sub.owner, 'url')
  if not url then return end
  local did = 'wd_' .. redis.call('INCR', P .. 'delivery-seq')
  local body
  if sub.kind == 'run' then
    body = cjson.encode({
      type = 'run.finished', delivery_id = did, run_id = sid, language = sub.language,
      status = status, message = message, finished_at_ms = now })
  else
    body = cjson.encode({
      type = 'submission.finished', delivery_id = did, submission_id = sid,
      problem_id = sub.problem, language = sub.language, status = status,
      score = tonumber(score), max_score = tonumber(sub.max_score) or 0, message = message,
      finished_at_ms = now })
  end
  redis.call('HSET', P .. 'delivery:' .. did, 'owner', sub.owner, 'url', url, 'sub', sid,
    'body', body, 'state', 'pending', 'attempts', 0, 'last_code', '', 'last_error', '',
    'created_at', now, 'next_at', now)
  redis.call('ZADD', P .. 'deliveries:due', now, did)
  local list = P .. 'webhook:' .. sub.owner .. ':deliveries'
  redis.call('LPUSH', list, did)
  redis.call('LTRIM', list, 0, DELIVERIES_LISTED - 1)
end

-- A retention of P..'retention' (ms; 0 = keep forever).
local function retention_ms(field)
  return tonumber(redis.call('HGET', P .. 'retention', field)) or 0
end

-- Gives finished submission (or run) `sid` its expiry: a code run's hash
-- (with its artifacts) and event log `runs_ms` after `finished_at`, a
-- submission's event log `events_ms` after it (see the key schema).
local function expire_finished(sid, kind, finished_at)
  local ttl = retention_ms(kind == 'run' and 'runs_ms' or 'events_ms')
  if ttl <= 0 then return end
  if kind == 'run' then redis.call('PEXPIREAT', sub_key(sid), finished_at + ttl) end
  redis.call('PEXPIREAT', sub_key(sid) .. ':events', finished_at + ttl)
end

-- Records a submission's final verdict, if `jid` is still its job, and
-- notifies its owner's webhook (a cancel is not a verdict). `sub`:
-- `submission_of(sid)` if the caller has it.
local function finish(sid, jid, status, score, message, result, now, sub)
  sub = sub or submission_of(sid)
  if sub.job ~= jid then return end
  redis.call('HSET', sub_key(sid), 'status', status, 'score', score, 'message', message,
    'result', result, 'finished_at', now)
  append_event(sid, jid, { type = 'finished', status = status, score = tonumber(score), message = message })
  expire_finished(sid, sub.kind, now)
  if status ~= 'CANCELLED' then queue_webhook(sid, sub, status, score, message, now) end
end

-- Ends `jid` as JE with `reason` (a job out of attempts).
local function fail_job(jid, sid, reason, stat, now)
  redis.call('HSET', job_key(jid), 'state', 'failed', 'lease', '')
  redis.call('PEXPIRE', job_key(jid), ENDED_JOB_TTL_MS)
  finish(sid, jid, 'JE', 0, reason, '', now)
  redis.call('HINCRBY', P .. 'stats', 'je:' .. stat, 1)
end

-- Reclaims up to `limit` expired leases: each job goes back to the queue, or,
-- once it has been claimed `max_attempts` times, ends as JE with the reason.
-- Returns how many leases expired.
local function reclaim_expired(now, limit, max_attempts)
  local expired = redis.call('ZRANGEBYSCORE', P .. 'leases', '-inf', now, 'LIMIT', 0, limit)
  for _, jid in ipairs(expired) do
    local job = redis.call('HMGET', job_key(jid), 'sub', 'attempt', 'runner')
    local sid, attempt, rid = job[1], tonumber(job[2]) or 0, job[3]
    drop_lease(jid, rid)
    notify_cancel(rid, jid)
    redis.call('HINCRBY', P .. 'stats', 'reclaims', 1)
    if attempt >= max_attempts then
      fail_job(jid, sid, 'judging failed: the lease expired on all ' .. attempt ..
        ' attempts (the last runner, ' .. tostring(rid) .. ', stopped renewing it)',
        'attempts_exhausted', now)
    else
      requeue(jid, sid, attempt)
    end
  end
  return #expired
end

-- Job `jid`'s fencing fields: {state, runner, lease}.
local function fencing(jid)
  local job = redis.call('HMGET', job_key(jid), 'state', 'runner', 'lease')
  return { state = job[1], runner = job[2], lease = job[3] }
end

-- The lease `rid` holds (or last held) on a job with fencing fields
-- `fence`, for runners that do not echo leases (Normal-OJ's): their
-- identity is the fence. '' if none.
local function lease_in(fence, rid)
  if fence.runner == rid then return fence.lease or '' end
  return ''
end

-- Whether a job with fencing fields `fence` is leased to `rid` under
-- `lease` (expired leases are reclaimed first by the caller).
local function leased_to(fence, rid, lease)
  return fence.state == 'leased' and fence.runner == rid and fence.lease == lease
end

-- Whether `rid` holds a live lease `lease` on `jid`.
local function holds_lease(jid, rid, lease)
  return leased_to(fencing(jid), rid, lease)
end

-- Records job `jid`'s result if `lease` is still its lease (fencing; expired
-- leases are reclaimed first by the caller). `lease` '' stands for the one
-- `rid` holds (Normal-OJ's runners do not echo leases). `kind` is the
-- result's: '' (a verdict) or 'run' (a run's report); it must be the
-- submission's. Returns complete.lua's answer.
local function complete_job(now, rid, jid, lease, status, score, result, message, kind)
  local job = job_key(jid)
  local state = redis.call('HMGET', job, 'state', 'done_lease', 'runner', 'sub', 'lease')
  if not state[1] then return 'unknown' end
  local fence = { state = state[1], runner = state[3], lease = state[5] }
  if lease == '' then lease = lease_in(fence, rid) end
  if state[1] == 'done' and state[2] == lease and state[3] == rid then return 'repeat' end
  if (state[1] == 'superseded' or state[1] == 'cancelled') and state[3] == rid then
    return 'dropped'
  end
  if lease == '' or not leased_to(fence, rid, lease) then return 'stale' end
  local sub = submission_of(state[4])
  if sub.kind ~= kind then return 'wrong_kind' end
  redis.call('HSET', job, 'state', 'done', 'done_lease', lease)
  redis.call('PEXPIRE', job, ENDED_JOB_TTL_MS)
  drop_lease(jid, rid)
  redis.call('HINCRBY', P .. 'stats', 'completed', 1)
  if status == 'JE' then redis.call('HINCRBY', P .. 'stats', 'je:runner_reported', 1) end
  finish(state[4], jid, status, score, message, result, now, sub)
  return 'ok'
end

-- claim.lua's answer for job `jid`, leased: {'ok', jid, sid, attempt, spec,
-- noj}. `job`: those fields of it, if the caller read them.
local function leased_answer(jid, job)
  job = job or redis.call('HMGET', job_key(jid), 'sub', 'attempt', 'spec', 'noj')
  return { 'ok', jid, job[1], job[2], job[3], job[4] or '' }
end

-- Charges dispatch queue `q` of `class`, whose start tag was `tag`, for
-- a job of `cost` just leased from it: its tag moves on by cost / weight
-- (its finish tag, if that was its last job), and the class's clock
-- reaches `tag`.
local function charge(q, class, tag, cost)
  local next_tag = tag + math.max(tonumber(cost) or 1, 1) / weight_of(q)
  local clock = tonumber(redis.call('HGET', P .. 'vclock', class)) or 0
  if tag > clock then redis.call('HSET', P .. 'vclock', class, num(tag)) end
  if redis.call('EXISTS', P .. 'queue:' .. q) == 1 then
    redis.call('ZADD', P .. 'ready:' .. class, num(next_tag), q)
  else
    deactivate(q, class, num(next_tag))
  end
end

-- How many queued jobs of one dispatch queue a claim reads at a time: the
-- first is usually the one, and reading a backlog's whole window would
-- cost every claim.
local CLAIM_PAGE = 16

-- How many of a class's ready queues, the first by start tag, have their
-- ties broken by the age of their oldest job.
local TIE_BREAK = 16

-- Orders the first TIE_BREAK of `queues` (listed by start tag, then name)
-- by start tag, then by the FIFO position of their oldest job: between
-- equal shares, the job queued first goes first.
local function order_ties(queues)
  local n = math.min(#queues, TIE_BREAK)
  if n < 2 or queues[1].tag ~= queues[2].tag then return end
  local head = {}
  for i = 1, n do
    local first = redis.call('ZRANGE', P .. 'queue:' .. queues[i].name, 0, 0, 'WITHSCORES')
    head[queues[i].name] = tonumber(first[2]) or math.huge
  end
  local top = {}
  for i = 1, n do top[i] = queues[i] end
  table.sort(top, function(a, b)
    if a.tag ~= b.tag then return a.tag < b.tag end
    return head[a.name] < head[b.name]
  end)
  for i = 1, n do queues[i] = top[i] end
end

-- The job runner `rid` is to get next, fairly (see the fair dispatch note
-- at the top): the first job `runnable(jid)` accepts, looking at the
-- classes best first and, within a class, at a page of each ready queue in
-- order of start tags, then the next page of each, up to `window` jobs in
-- all. Returns jid, what `runnable` said of it, its queue, class and the
-- queue's start tag; nil if none.
local function fair_pick(runnable, window)
  local budget = window
  for _, class in ipairs(CLASSES) do
    if budget <= 0 then return nil end
    local ready = P .. 'ready:' .. class
    local listed = redis.call('ZRANGE', ready, 0, budget - 1, 'WITHSCORES')
    local queues = {}
    for i = 1, #listed, 2 do
      table.insert(queues, { name = listed[i], tag = tonumber(listed[i + 1]), first = 0 })
    end
    order_ties(queues)
    while #queues > 0 and budget > 0 do
      local more = {}
      for _, q in ipairs(queues) do
        if budget <= 0 then break end
        local count = math.min(CLAIM_PAGE, budget)
        local jids = redis.call('ZRANGE', P .. 'queue:' .. q.name, q.first, q.first + count - 1)
        -- Listed but empty (its jobs left by a path that keeps no tag).
        if q.first == 0 and #jids == 0 then redis.call('ZREM', ready, q.name) end
        budget = budget - #jids
        for _, jid in ipairs(jids) do
          local job = runnable(jid)
          if job then return jid, job, q.name, class, q.tag end
        end
        q.first = q.first + count
        if #jids == count then table.insert(more, q) end
      end
      queues = more
    end
  end
  return nil
end

-- Leases to runner `rid`, under `lease` for `ttl_ms`, the next of the
-- first `window` queued jobs it can run (its language, checker and labels
-- match what it advertised; a Normal-OJ runner gets only jobs with a `noj`
-- payload), chosen by `fair_pick`. `woken_for`: the jobs whose wakes
-- brought the caller here. Returns claim.lua's answer.
local function claim_job(now, rid, lease, ttl_ms, window, woken_for)
  local key = runner_key(rid)
  local runner = redis.call('HMGET', key, 'languages', 'checkers', 'labels', 'slots', 'dialect')
  if not runner[4] then return { 'unknown_runner' } end
  local held = redis.call('SCARD', key .. ':jobs')
  if held >= tonumber(runner[4]) then return { 'slots_full' } end
  local languages, checkers, labels = set_of(runner[1]), set_of(runner[2]), set_of(runner[3])
  local normal_oj = runner[5] == 'normal-oj'

  -- The job's sub, attempt, noj and cost if the runner can run it, else nil.
  local function runnable(jid)
    local job = redis.call('HMGET', job_key(jid), 'language', 'checker', 'labels', 'noj', 'sub',
      'attempt', 'cost')
    if not languages[job[1]] then return nil end
    if normal_oj and (job[4] or '') == '' then return nil end
    if job[2] and job[2] ~= '' and not checkers[job[2]] then return nil end
    for label in string.gmatch(job[3] or '', '%S+') do
      if not labels[label] then return nil end
    end
    return { sub = job[5], attempt = (tonumber(job[6]) or 0) + 1, noj = job[4], cost = job[7] }
  end

  local jid, job, q, class, tag = fair_pick(runnable, window)
  if jid then
    local sid, attempt = job.sub, job.attempt
    redis.call('HSET', job_key(jid), 'attempt', attempt, 'state', 'leased', 'lease', lease,
      'runner', rid)
    redis.call('ZREM', P .. 'pending', jid)
    redis.call('ZREM', P .. 'queue:' .. q, jid)
    charge(q, class, tag, job.cost)
    redis.call('ZADD', P .. 'leases', now + ttl_ms, jid)
    redis.call('SADD', key .. ':jobs', jid)
    -- A new set lives as long as its runner (heartbeats renew both).
    if held == 0 then redis.call('PEXPIRE', key .. ':jobs', redis.call('PTTL', key)) end
    redis.call('HSET', sub_key(sid), 'status', 'JUDGING', 'attempt', attempt)
    append_event(sid, jid, { type = 'started', attempt = attempt, runner_id = rid })
    local spec = redis.call('HGET', job_key(jid), 'spec')
    return leased_answer(jid, { sid, tostring(attempt), spec, job.noj })
  end
  local none = { 'none', runner[1] or '', runner[2] or '', runner[3] or '', runner[5] or '' }
  for _, id in ipairs(woken_for) do
    if redis.call('ZSCORE', P .. 'pending', id) then table.insert(none, id) end
  end
  return none
end
