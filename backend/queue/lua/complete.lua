-- complete.lua: accepts a job's result if the lease is still the job's
-- (fencing): the submission gets its verdict once; a repeat of the accepted
-- completion is harmless; anything else is stale and changes nothing.
-- KEYS[1]: key prefix
-- ARGV[1]: runner id   ARGV[2]: job id   ARGV[3]: lease   ARGV[4]: max attempts
-- ARGV[5]: status   ARGV[6]: score   ARGV[7]: result (JSON)   ARGV[8]: message
-- ARGV[9]: the result's kind: '' (a verdict) or 'run' (a run's report); it
--          must be the submission's
-- A lease '' stands for the one the runner holds (Normal-OJ's runners do
-- not echo leases; their identity is the fence).
-- Returns: 'ok' | 'repeat' | 'dropped' (the job ended without a result —
-- superseded, cancelled — while this runner held it) | 'unknown' (no such
-- job) | 'stale' (someone else's, or the lease expired) | 'wrong_kind' (a
-- verdict for a run or a run's report for a submission: nothing changes).
local rid, jid, lease = ARGV[1], ARGV[2], ARGV[3]
local now = now_ms()
reclaim_expired(now, 100, tonumber(ARGV[4]))
local job = job_key(jid)
if redis.call('EXISTS', job) == 0 then return 'unknown' end
if lease == '' then lease = lease_of(jid, rid) end
local state = redis.call('HMGET', job, 'state', 'done_lease', 'runner', 'sub')
if state[1] == 'done' and state[2] == lease and state[3] == rid then return 'repeat' end
if (state[1] == 'superseded' or state[1] == 'cancelled') and state[3] == rid then
  return 'dropped'
end
if lease == '' or not holds_lease(jid, rid, lease) then return 'stale' end
if (redis.call('HGET', sub_key(state[4]), 'kind') or '') ~= ARGV[9] then return 'wrong_kind' end
redis.call('HSET', job, 'state', 'done', 'done_lease', lease)
redis.call('PEXPIRE', job, ENDED_JOB_TTL_MS)
drop_lease(jid, rid)
redis.call('HINCRBY', P .. 'stats', 'completed', 1)
if ARGV[5] == 'JE' then redis.call('HINCRBY', P .. 'stats', 'je:runner_reported', 1) end
finish(state[4], jid, ARGV[5], ARGV[6], ARGV[8], ARGV[7], now)
return 'ok'
