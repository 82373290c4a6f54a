-- reclaim.lua: the reaper's sweep: reclaims expired leases (see
-- `reclaim_expired`) and says when the next lease expires.
-- KEYS[1]: key prefix
-- ARGV[1]: max attempts   ARGV[2]: how many leases to reclaim at most
-- Returns: {reclaimed, ms until the next deadline or -1 if none}.
local now = now_ms()
local reclaimed = reclaim_expired(now, tonumber(ARGV[2]), tonumber(ARGV[1]))
local next = redis.call('ZRANGE', P .. 'leases', 0, 0, 'WITHSCORES')
if #next == 0 then return { reclaimed, -1 } end
return { reclaimed, math.max(0, tonumber(next[2]) - now) }
