-- heartbeat.lua: renews a runner's liveness and the leases it names (only
-- those it owns), updates its capabilities, and hands over the jobs it must
-- stop.
-- KEYS[1]: key prefix
-- ARGV[1]: runner id
-- ARGV[2]: lease time-to-live (ms)   ARGV[3]: runner time-to-live (ms)
-- ARGV[4]: max attempts
-- ARGV[5]: languages or '-' (unchanged)   ARGV[6]: checker ids or '-'
-- ARGV[7]: plugins JSON or '-'
-- ARGV[8..]: job id, lease, job id, lease, … (a lease '' stands for the
--            one the runner holds: Normal-OJ's runners name only job ids)
-- Returns: {'unknown_runner'} or {'ok', jid-to-cancel, …}.
-- The runner stays registered for its own `ttl` (set at registration),
-- ARGV[3] for runners registered without one.
local rid, lease_ttl = ARGV[1], tonumber(ARGV[2])
local key = runner_key(rid)
if redis.call('EXISTS', key) == 0 then return { 'unknown_runner' } end
local runner_ttl = tonumber(redis.call('HGET', key, 'ttl')) or tonumber(ARGV[3])
local now = now_ms()
reclaim_expired(now, 100, tonumber(ARGV[4]))
redis.call('HSET', key, 'last_seen', now)
if ARGV[5] ~= '-' then redis.call('HSET', key, 'languages', ARGV[5]) end
-- A live runner keeps its languages offered (submissions check this).
for language in string.gmatch(redis.call('HGET', key, 'languages') or '', '%S+') do
  redis.call('ZADD', P .. 'languages', now, language)
end
if ARGV[6] ~= '-' then redis.call('HSET', key, 'checkers', ARGV[6]) end
-- Its parked long-polls look again with what it offers now.
if ARGV[5] ~= '-' or ARGV[6] ~= '-' then redis.call('PUBLISH', P .. 'wake', 'capabilities') end
if ARGV[7] ~= '-' then redis.call('HSET', key, 'plugins', ARGV[7]) end
local token_hash = redis.call('HGET', key, 'token_hash')
for _, k in ipairs({ key, key .. ':jobs', P .. 'runner-token:' .. token_hash }) do
  redis.call('PEXPIRE', k, runner_ttl)
end
redis.call('ZADD', P .. 'runners', now, rid)

-- Renew what the runner holds first: a job it holds again under a new lease
-- (reclaimed from it, then claimed by it anew, e.g. after a restart) is not
-- cancelled by a cancel left for the old attempt.
local held = {}
local cancel = {}
local seen = {}
for i = 8, #ARGV, 2 do
  local jid, lease = ARGV[i], ARGV[i + 1]
  local fence = fencing(jid)
  if lease == '' then lease = lease_in(fence, rid) end
  if lease ~= '' and leased_to(fence, rid, lease) then
    redis.call('ZADD', P .. 'leases', now + lease_ttl, jid)
    held[jid] = true
  elseif not seen[jid] then
    seen[jid] = true
    table.insert(cancel, jid)
  end
end
for _, jid in ipairs(redis.call('SMEMBERS', key .. ':cancel')) do
  if not seen[jid] and not held[jid] then seen[jid] = true; table.insert(cancel, jid) end
end
redis.call('DEL', key .. ':cancel')
local reply = { 'ok' }
for _, jid in ipairs(cancel) do table.insert(reply, jid) end
return reply
