-- complete_next.lua: complete.lua, then, if the result was accepted (or is a
-- repeat of the accepted one), claim.lua for the same runner in the same
-- step: a busy runner gets its next job in the round trip that delivers the
-- last one's result.
-- KEYS[1]: key prefix
-- ARGV[1..9]: as complete.lua
-- ARGV[10]: the new lease (random)   ARGV[11]: lease time-to-live (ms)
-- ARGV[12]: how many queued jobs to look at (the scan window)
-- Returns: {outcome} when complete.lua's answer `outcome` is neither 'ok'
-- nor 'repeat'; else {outcome, claim.lua's answer…}.
local now = now_ms()
reclaim_expired(now, 100, tonumber(ARGV[4]))
local outcome =
  complete_job(now, ARGV[1], ARGV[2], ARGV[3], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9])
if outcome ~= 'ok' and outcome ~= 'repeat' then return { outcome } end
local claimed = claim_job(now, ARGV[1], ARGV[10], tonumber(ARGV[11]), tonumber(ARGV[12]), {})
table.insert(claimed, 1, outcome)
return claimed
