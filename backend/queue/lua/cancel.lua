-- cancel.lua: stops a submission that has no final verdict yet: its job
-- leaves the queue, or its runner is told to stop; the verdict is CANCELLED.
-- KEYS[1]: key prefix
-- ARGV[1]: submission id
-- Returns: 'ok' | 'unknown' | 'final' (already judged: nothing changes).
local sid = ARGV[1]
local sub = redis.call('HMGET', sub_key(sid), 'job', 'status')
if not sub[1] then return 'unknown' end
if sub[2] ~= 'PENDING' and sub[2] ~= 'JUDGING' then return 'final' end
abandon(sub[1], 'cancelled')
finish(sid, sub[1], 'CANCELLED', 0, 'cancelled by request', '', now_ms())
return 'ok'
