-- events.lua: appends a running job's progress events to its submission's
-- log, if the caller still holds the lease.
-- KEYS[1]: key prefix
-- ARGV[1]: runner id   ARGV[2]: job id   ARGV[3]: lease   ARGV[4]: max attempts
-- ARGV[5..]: events, each a JSON object with its `type`
-- Returns: 'ok' | 'stale'.
local rid, jid, lease = ARGV[1], ARGV[2], ARGV[3]
reclaim_expired(now_ms(), 100, tonumber(ARGV[4]))
if not holds_lease(jid, rid, lease) then return 'stale' end
local sid = redis.call('HGET', job_key(jid), 'sub')
if redis.call('HGET', sub_key(sid), 'job') ~= jid then return 'stale' end
for i = 5, #ARGV do
  append_event(sid, jid, cjson.decode(ARGV[i]))
end
return 'ok'
