-- register.lua: records a new runner and its token's hash.
-- KEYS[1]: key prefix
-- ARGV[1]: runner id       ARGV[2]: SHA-256 of its token (hex)
-- ARGV[3]: name            ARGV[4]: labels (space-separated)
-- ARGV[5]: slots           ARGV[6]: languages (space-separated)
-- ARGV[7]: checker ids (space-separated)
-- ARGV[8]: plugins (JSON, as advertised)
-- ARGV[9]: time-to-live of a quiet runner (ms)
-- ARGV[10]: dialect ('' for Gavel's protocol, 'normal-oj')
-- Returns: 'ok'.
local rid, ttl = ARGV[1], tonumber(ARGV[9])
local now = now_ms()
local key = runner_key(rid)
redis.call('HSET', key, 'token_hash', ARGV[2], 'name', ARGV[3], 'labels', ARGV[4],
  'slots', ARGV[5], 'languages', ARGV[6], 'checkers', ARGV[7], 'plugins', ARGV[8],
  'registered_at', now, 'last_seen', now, 'dialect', ARGV[10], 'ttl', ttl)
redis.call('PEXPIRE', key, ttl)
redis.call('SET', P .. 'runner-token:' .. ARGV[2], rid, 'PX', ttl)
redis.call('ZADD', P .. 'runners', now, rid)
for language in string.gmatch(ARGV[6], '%S+') do
  redis.call('ZADD', P .. 'languages', now, language)
end
return 'ok'
