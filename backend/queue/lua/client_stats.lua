-- client_stats.lua: how many jobs each owner has queued and leased now
-- (the per-client gauges of /metrics). Reads only; costs one call per
-- ready dispatch queue and per lease.
-- KEYS[1]: key prefix
-- Returns: {owner, queued, running, owner, queued, running, …} for every
-- owner with a queued or leased job.
local counts, owners = {}, {}
local function of(owner)
  if not counts[owner] then
    counts[owner] = { queued = 0, running = 0 }
    table.insert(owners, owner)
  end
  return counts[owner]
end
for _, class in ipairs(CLASSES) do
  for _, q in ipairs(redis.call('ZRANGE', P .. 'ready:' .. class, 0, -1)) do
    local queued = redis.call('ZCARD', P .. 'queue:' .. q)
    if queued > 0 then
      local entry = of(queue_owner(q))
      entry.queued = entry.queued + queued
    end
  end
end
for _, jid in ipairs(redis.call('ZRANGE', P .. 'leases', 0, -1)) do
  local q = redis.call('HGET', job_key(jid), 'queue')
  if q then
    local entry = of(queue_owner(q))
    entry.running = entry.running + 1
  end
end
local answer = {}
for _, owner in ipairs(owners) do
  table.insert(answer, owner)
  table.insert(answer, counts[owner].queued)
  table.insert(answer, counts[owner].running)
end
return answer
