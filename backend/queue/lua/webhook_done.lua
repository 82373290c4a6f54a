-- webhook_done.lua: records one attempt at a delivery: delivered, or
-- retried after an exponential backoff, or failed once the attempts are
-- spent.
-- KEYS[1]: key prefix
-- ARGV[1]: delivery id   ARGV[2]: '1' if the receiver answered 2xx
-- ARGV[3]: its HTTP status ('' if none)   ARGV[4]: the error ('' if none)
-- ARGV[5]: max attempts   ARGV[6]: first backoff (ms)   ARGV[7]: max backoff (ms)
-- Returns: 'delivered' | 'retry' | 'failed' | 'unknown'.
local did = ARGV[1]
local key = P .. 'delivery:' .. did
if redis.call('EXISTS', key) == 0 then return 'unknown' end
local now = now_ms()
local attempts = redis.call('HINCRBY', key, 'attempts', 1)
redis.call('HSET', key, 'last_code', ARGV[3], 'last_error', ARGV[4])
local ended = nil
if ARGV[2] == '1' then
  redis.call('HSET', key, 'state', 'delivered', 'delivered_at', now, 'next_at', '')
  ended = 'delivered'
elseif attempts >= tonumber(ARGV[5]) then
  redis.call('HSET', key, 'state', 'failed', 'next_at', '')
  ended = 'failed'
end
if ended then
  redis.call('ZREM', P .. 'deliveries:due', did)
  redis.call('PEXPIRE', key, 7 * 24 * 3600 * 1000)
  return ended
end
local delay = math.floor(math.min(tonumber(ARGV[6]) * 2 ^ (attempts - 1), tonumber(ARGV[7])))
redis.call('HSET', key, 'next_at', now + delay)
redis.call('ZADD', P .. 'deliveries:due', now + delay, did)
return 'retry'
