-- claim.lua: reclaims expired leases, then leases to the runner the next
-- queued job it can run (its language, checker and labels match what the
-- runner advertised; a Normal-OJ runner gets only jobs with a `noj`
-- payload), chosen fairly across owners (`claim_job` in lib.lua).
-- KEYS[1]: key prefix
-- ARGV[1]: runner id   ARGV[2]: the new lease (random)
-- ARGV[3]: lease time-to-live (ms)   ARGV[4]: max attempts
-- ARGV[5]: how many queued jobs to look at (the scan window)
-- ARGV[6..]: the jobs whose wakes brought the caller here
-- Returns: {'unknown_runner'} | {'slots_full'} |
--          {'none', languages, checkers, labels, dialect, jid…} (what the
--          runner offers, and those of ARGV[6..] that are still queued) |
--          {'ok', jid, sid, attempt, spec, noj}
local now = now_ms()
reclaim_expired(now, 100, tonumber(ARGV[4]))
local woken_for = {}
for i = 6, #ARGV do table.insert(woken_for, ARGV[i]) end
return claim_job(now, ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[5]), woken_for)
