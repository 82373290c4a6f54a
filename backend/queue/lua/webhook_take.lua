-- webhook_take.lua: hands a backend the deliveries that are due, hiding
-- each from the other instances for a while (if the sender dies, the
-- delivery becomes due again then).
-- KEYS[1]: key prefix
-- ARGV[1]: how many at most   ARGV[2]: how long they stay hidden (ms)
-- Returns: {did, url, body, secret, …} (four entries per delivery).
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', P .. 'deliveries:due', '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local out = {}
for _, did in ipairs(due) do
  local key = P .. 'delivery:' .. did
  local d = redis.call('HMGET', key, 'url', 'body', 'owner')
  local secret = d[3] and redis.call('HGET', P .. 'webhook:' .. d[3], 'secret')
  if not d[1] then
    redis.call('ZREM', P .. 'deliveries:due', did)
  elseif not secret then
    -- The webhook was removed since: nothing left to deliver to.
    redis.call('ZREM', P .. 'deliveries:due', did)
    redis.call('HSET', key, 'state', 'failed', 'last_error', 'the webhook was removed')
    redis.call('PEXPIRE', key, 7 * 24 * 3600 * 1000)
  else
    redis.call('ZADD', P .. 'deliveries:due', now + tonumber(ARGV[2]), did)
    for _, v in ipairs({ did, d[1], d[2], secret }) do table.insert(out, v) end
  end
end
return out
