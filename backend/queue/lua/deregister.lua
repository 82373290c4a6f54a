-- deregister.lua: removes a runner; the jobs it held go back to the queue at
-- once (a hand-back is not a failed attempt).
-- KEYS[1]: key prefix
-- ARGV[1]: runner id
-- Returns: the number of jobs requeued, or -1 for an unknown runner.
local rid = ARGV[1]
local key = runner_key(rid)
local token_hash = redis.call('HGET', key, 'token_hash')
if not token_hash then return -1 end
local requeued = 0
for _, jid in ipairs(redis.call('SMEMBERS', key .. ':jobs')) do
  local job = redis.call('HMGET', job_key(jid), 'state', 'runner', 'sub', 'attempt')
  if job[1] == 'leased' and job[2] == rid then
    drop_lease(jid, rid)
    requeue(jid, job[3], tonumber(job[4]))
    requeued = requeued + 1
  end
end
redis.call('DEL', key, key .. ':jobs', key .. ':cancel', P .. 'runner-token:' .. token_hash)
redis.call('ZREM', P .. 'runners', rid)
return requeued
