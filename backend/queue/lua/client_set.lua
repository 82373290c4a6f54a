-- client_set.lua: sets what the admin decides for a client — its priority
-- class, weight and quotas —, effective at once: every claim reads the
-- class and weight, every create the quotas, and a change of class moves
-- the client's queued jobs to the new class (its dispatch queue starts
-- there at the class's clock).
-- KEYS[1]: key prefix
-- ARGV[1]: client id
-- ARGV[2..]: field, value pairs: class, weight, creates_per_minute,
--            max_queued (checked by the caller); '' clears the field (the
--            default again)
-- Returns: 'ok' | 'unknown' (no such client: nothing changes).
local cid = ARGV[1]
local key = P .. 'client:' .. cid
if redis.call('EXISTS', key) == 0 then return 'unknown' end
local before = class_of(cid)
for i = 2, #ARGV - 1, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', key, ARGV[i])
  else
    redis.call('HSET', key, ARGV[i], ARGV[i + 1])
  end
end
local after = class_of(cid)
if after ~= before then
  -- Tags of one class mean nothing in another.
  redis.call('HDEL', P .. 'vfinish', cid)
  if redis.call('ZSCORE', P .. 'ready:' .. before, cid) then
    redis.call('ZREM', P .. 'ready:' .. before, cid)
    activate(cid)
  end
end
return 'ok'
