-- complete.lua: accepts a job's result if the lease is still the job's
-- (fencing): the submission gets its verdict once; a repeat of the accepted
-- completion is harmless; anything else is stale and changes nothing
-- (`complete_job` in lib.lua).
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
local now = now_ms()
reclaim_expired(now, 100, tonumber(ARGV[4]))
return complete_job(now, ARGV[1], ARGV[2], ARGV[3], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9])
