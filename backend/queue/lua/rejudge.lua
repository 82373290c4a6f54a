-- rejudge.lua: supersedes a submission's current job (its runner is told to
-- stop; its lease can no longer complete) and queues a new one.
-- KEYS[1]: key prefix
-- ARGV[1]: submission id   ARGV[2]: the new job id
-- Returns: 'ok' | 'unknown'.
local sid = ARGV[1]
local old = redis.call('HGET', sub_key(sid), 'job')
if not old then return 'unknown' end
abandon(old, 'superseded')
enqueue_job(ARGV[2], sid)
return 'ok'
