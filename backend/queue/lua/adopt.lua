-- adopt.lua: puts the jobs an older backend queued (in P..'pending' but in
-- no dispatch queue) in their owners' dispatch queues, at their FIFO
-- positions, with the default cost; run once at start-up.
-- KEYS[1]: key prefix
-- Returns: how many jobs were adopted.
local adopted = 0
local pending = redis.call('ZRANGE', P .. 'pending', 0, -1, 'WITHSCORES')
for i = 1, #pending, 2 do
  local jid = pending[i]
  local job = redis.call('HMGET', job_key(jid), 'queue', 'sub', 'cost')
  if not job[1] or job[1] == '' then
    if not job[3] then redis.call('HSET', job_key(jid), 'cost', DEFAULT_COST) end
    queue_job(jid, queue_of(jid, job[2]), pending[i + 1])
    adopted = adopted + 1
  end
end
return adopted
