-- rejudge.lua: supersedes a submission's current job (its runner is told to
-- stop; its lease can no longer complete) and queues a new one.
-- KEYS[1]: key prefix
-- ARGV[1]: submission id   ARGV[2]: the new job id
-- Returns: 'ok' | 'unknown'.
local sid = ARGV[1]
local old = redis.call('HGET', sub_key(sid), 'job')
if not old then return 'unknown' end
abandon(old, 'superseded')
local job = redis.call('HMGET', sub_key(sid), 'spec', 'language', 'checker', 'labels', 'noj')
redis.call('HSET', sub_key(sid), unpack(pending_fields(ARGV[2])))
redis.call('DEL', sub_key(sid) .. ':events')
enqueue_job(ARGV[2], sid,
  { spec = job[1], language = job[2], checker = job[3], labels = job[4], noj = job[5] })
return 'ok'
