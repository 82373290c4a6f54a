-- abort.lua: a runner hands a job back (Normal-OJ's runners: drain,
-- prep_failed, rejected). The lease is cleared and the job goes to the
-- queue's tail; the same runner may claim it again. A counted hand-back
-- keeps the attempt the claim used, and ends the job as JE once it was the
-- last one; an uncounted one (drain) gives the attempt back.
-- KEYS[1]: key prefix
-- ARGV[1]: runner id   ARGV[2]: job id   ARGV[3]: '1' if the attempt counts
-- ARGV[4]: max attempts   ARGV[5]: the reason, as the runner named it
-- Returns: 'requeued' | 'failed' (JE: no attempts left) | 'unknown' (no such
-- job, or already completed by this runner) | 'stale' (not this runner's).
local rid, jid, counted, reason = ARGV[1], ARGV[2], ARGV[3] == '1', ARGV[5]
local max_attempts = tonumber(ARGV[4])
local now = now_ms()
reclaim_expired(now, 100, max_attempts)
local key = job_key(jid)
local job = redis.call('HMGET', key, 'state', 'runner', 'sub', 'attempt')
if not job[1] then return 'unknown' end
if job[1] == 'done' and job[2] == rid then return 'unknown' end
if job[1] ~= 'leased' or job[2] ~= rid then return 'stale' end
local sid, attempt = job[3], tonumber(job[4]) or 0
drop_lease(jid, rid)
redis.call('HINCRBY', P .. 'stats', 'aborts', 1)
if counted and attempt >= max_attempts then
  fail_job(jid, sid, 'judging failed: runners handed the job back on all ' .. attempt ..
    ' attempts (the last one, ' .. rid .. ': ' .. reason .. ')', 'aborted', now)
  return 'failed'
end
if not counted then
  attempt = redis.call('HINCRBY', key, 'attempt', -1)
  if redis.call('HGET', sub_key(sid), 'job') == jid then
    redis.call('HSET', sub_key(sid), 'attempt', attempt)
  end
end
redis.call('HSET', key, 'seq', redis.call('INCR', P .. 'seq'))
requeue(jid, sid, attempt)
return 'requeued'
