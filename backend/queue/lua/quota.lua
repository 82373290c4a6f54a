-- quota.lua: whether an owner is over a quota for one more create now
-- (`over_quota`), asked before a create stores anything outside Redis (a
-- large source's blob); submit.lua decides again when it stores the record.
-- KEYS[1]: key prefix
-- ARGV[1]: owner   ARGV[2], ARGV[3]: the default quotas (as submit.lua's
--          ARGV[19], ARGV[20])
-- Returns: {} | {reason, ms until a retry may pass}; counts a refusal.
local over = over_quota(ARGV[1], now_ms(),
  { per_minute = tonumber(ARGV[2]), max_queued = tonumber(ARGV[3]) })
if not over then return {} end
count_refusal(ARGV[1], over[1])
return { over[1], tostring(over[2]) }
