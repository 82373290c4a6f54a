-- rejudge.lua: supersedes a submission's current job (its runner is told to
-- stop; its lease can no longer complete) and queues a new one: in its
-- owner's dispatch queue, or, for the admin's rejudges, in the owner's
-- queue of rejudges (class 'rejudge', behind every live job).
-- KEYS[1]: key prefix
-- ARGV[1]: submission id   ARGV[2]: the new job id
-- ARGV[3]: '1' if the admin asked (the job goes behind live ones)
-- Returns: 'ok' | 'unknown'.
local sid = ARGV[1]
local old = redis.call('HGET', sub_key(sid), 'job')
if not old then return 'unknown' end
abandon(old, 'superseded')
local job = redis.call('HMGET', sub_key(sid), 'spec', 'language', 'checker', 'labels', 'noj',
  'owner', 'cost')
local queue = job[6] or 'admin'
if ARGV[3] == '1' then queue = queue .. REJUDGE_SUFFIX end
redis.call('HSET', sub_key(sid), unpack(pending_fields(ARGV[2])))
redis.call('DEL', sub_key(sid) .. ':events')
enqueue_job(ARGV[2], sid, { spec = job[1], language = job[2], checker = job[3], labels = job[4],
  noj = job[5], queue = queue, cost = job[7] or DEFAULT_COST })
return 'ok'
