-- retention.lua: records this backend's retention (P..'retention', read by
-- `expire_finished` when a submission or run finishes) and applies it to
-- one page of the code runs P..'runs' lists that are older than the runs
-- retention: an id whose record has expired leaves the listing; a run that
-- finished without an expiry (before retention was set) gets its expiry,
-- and leaves at once if that is past. Called by the backend's sweep, page
-- after page.
-- KEYS[1]: key prefix
-- ARGV[1]: runs retention (ms, 0 = forever)   ARGV[2]: event-log retention
-- (ms, 0 = forever)   ARGV[3]: first index of the page among the old runs
-- ARGV[4]: page size
-- Returns: {ids dropped from the listing, index of the next page or -1 when
-- this was the last}.
local runs_ms, events_ms = tonumber(ARGV[1]), tonumber(ARGV[2])
local first, page = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('HSET', P .. 'retention', 'runs_ms', runs_ms, 'events_ms', events_ms)
-- Without a runs retention, only ids whose record is gone are dropped.
local before = runs_ms > 0 and now_ms() - runs_ms or '+inf'
local ids = redis.call('ZRANGEBYSCORE', P .. 'runs', '-inf', before, 'LIMIT', first, page)
local dropped = 0
for _, sid in ipairs(ids) do
  local finished = tonumber(redis.call('HGET', sub_key(sid), 'finished_at'))
  if finished and redis.call('PTTL', sub_key(sid)) == -1 then
    expire_finished(sid, 'run', finished)
  end
  if redis.call('EXISTS', sub_key(sid)) == 0 then
    redis.call('ZREM', P .. 'runs', sid)
    dropped = dropped + 1
  end
end
if #ids < page then return { dropped, -1 } end
return { dropped, first + #ids - dropped }
