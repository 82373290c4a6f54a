-- complete_next.lua: complete.lua, then, if the result was accepted (or is a
-- repeat of the accepted one), claim.lua for the same runner in the same
-- step: a busy runner gets its next job in the round trip that delivers the
-- last one's result. The job handed out is remembered on the completed job
-- (`next_job`, `next_lease`), so a repeat of the call whose answer was lost
-- gets the same job back rather than a second one.
-- KEYS[1]: key prefix
-- ARGV[1..9]: as complete.lua
-- ARGV[10]: the new lease (random)   ARGV[11]: lease time-to-live (ms)
-- ARGV[12]: how many queued jobs to look at (the scan window)
-- Returns: {outcome} when complete.lua's answer `outcome` is neither 'ok'
-- nor 'repeat'; else {outcome, lease, claim.lua's answer…} where `lease` is
-- the lease of the job in that answer (ARGV[10], or the one handed out
-- before).
local rid, jid, lease = ARGV[1], ARGV[2], ARGV[10]
local now = now_ms()
reclaim_expired(now, 100, tonumber(ARGV[4]))
local outcome =
  complete_job(now, rid, jid, ARGV[3], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9])
if outcome ~= 'ok' and outcome ~= 'repeat' then return { outcome } end
if outcome == 'repeat' then
  local handed = redis.call('HMGET', job_key(jid), 'next_job', 'next_lease')
  if handed[1] and holds_lease(handed[1], rid, handed[2]) then
    local answer = leased_answer(handed[1])
    table.insert(answer, 1, handed[2])
    table.insert(answer, 1, outcome)
    return answer
  end
end
local claimed = claim_job(now, rid, lease, tonumber(ARGV[11]), tonumber(ARGV[12]), {})
if claimed[1] == 'ok' then
  redis.call('HSET', job_key(jid), 'next_job', claimed[2], 'next_lease', lease)
end
table.insert(claimed, 1, lease)
table.insert(claimed, 1, outcome)
return claimed
