-- submit.lua: records a new submission (or code run) and queues its first job,
-- once per idempotency key.
-- KEYS[1]: key prefix
-- ARGV[1]: submission id   ARGV[2]: job id   ARGV[3]: problem id
-- ARGV[4]: problem revision   ARGV[5]: source digest   ARGV[6]: language
-- ARGV[7]: checker id ('' when the problem ships its own)
-- ARGV[8]: labels (space-separated)   ARGV[9]: owner   ARGV[10]: max score
-- ARGV[11]: job spec (JSON, what the runner receives)
-- ARGV[12]: the Normal-OJ payload (JSON), '' when their runners cannot run it
-- ARGV[13]: kind: '' for a submission, 'run' for a code run (no problem;
--           listed in P..'runs' instead of P..'submissions')
-- ARGV[14]: the client's idempotency key, '' for none
-- ARGV[15]: the request's fingerprint (with a key)
-- ARGV[16]: how long the key is remembered (ms, with a key)
-- ARGV[17]: how recently (ms) a runner must have offered the language
-- ARGV[18]: the job's cost (estimated runner time, ms)
-- ARGV[19], ARGV[20]: the default quotas (creates per minute, live jobs
--           queued at once), for a client the admin set none on
-- Returns: {'created', ARGV[1]}; or, when the owner used the key before,
-- {'replayed', the earlier id} for the same fingerprint and
-- {'conflict', the earlier id} for another (a retry is answered before
-- any quota is checked); {'queue_full', ms} or {'rate_limited', ms} when
-- the owner is over a quota (`over_quota`; ms: when to try again; counted
-- in P..'refused'); {'problem_changed', ''} when the problem's revision is
-- no longer ARGV[4] (the caller built the job from an older record) or it
-- is gone; {'unknown_language', ''} when no runner offered the language
-- lately. Only 'created' changes anything but the refusal count.
local sid = ARGV[1]
local key
if ARGV[14] ~= '' then
  key = idempotency_key(ARGV[9], ARGV[14])
  local seen = redis.call('HMGET', key, 'fingerprint', 'id')
  if seen[2] then
    return { seen[1] == ARGV[15] and 'replayed' or 'conflict', seen[2] }
  end
end
local now = now_ms()
local owner = ARGV[9]
local over = over_quota(owner, now,
  { per_minute = tonumber(ARGV[19]), max_queued = tonumber(ARGV[20]) })
if over then
  count_refusal(owner, over[1])
  return { over[1], tostring(over[2]) }
end
if ARGV[13] ~= 'run' then
  local revision = redis.call('GET', P .. 'problem-revision:' .. ARGV[3])
  if not revision then
    -- Stored before revisions were kept apart: read the record's.
    local record = redis.call('GET', P .. 'problem:' .. ARGV[3])
    revision = record and cjson.decode(record).manifest.digest
  end
  if revision ~= ARGV[4] then return { 'problem_changed', '' } end
end
local offered = tonumber(redis.call('ZSCORE', P .. 'languages', ARGV[6]))
if not offered or offered < now - tonumber(ARGV[17]) then return { 'unknown_language', '' } end
if key then
  redis.call('HSET', key, 'fingerprint', ARGV[15], 'id', sid)
  redis.call('PEXPIRE', key, ARGV[16])
end
count_create(owner, sid, now)
local job = { spec = ARGV[11], language = ARGV[6], checker = ARGV[7], labels = ARGV[8],
  noj = ARGV[12], cost = ARGV[18], queue = owner }
redis.call('HSET', sub_key(sid), 'problem', ARGV[3], 'revision', ARGV[4], 'source', ARGV[5],
  'language', job.language, 'checker', job.checker, 'labels', job.labels, 'owner', owner,
  'max_score', ARGV[10], 'spec', job.spec, 'noj', job.noj, 'kind', ARGV[13], 'created_at', now,
  'cost', job.cost, 'seq', 0, unpack(pending_fields(ARGV[2])))
redis.call('ZADD', P .. (ARGV[13] == 'run' and 'runs' or 'submissions'), now, sid)
enqueue_job(ARGV[2], sid, job)
return { 'created', sid }
