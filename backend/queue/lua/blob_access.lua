-- blob_access.lua: whether a runner may read a blob: only while it holds a
-- live lease on a job whose submission references it (the source, the
-- problem's manifest or one of the problem's files).
-- KEYS[1]: key prefix
-- ARGV[1]: runner id   ARGV[2]: blob digest
-- Returns: 1 (allowed) | 0.
local rid, digest = ARGV[1], ARGV[2]
local now = now_ms()
for _, jid in ipairs(redis.call('SMEMBERS', runner_key(rid) .. ':jobs')) do
  local job = redis.call('HMGET', job_key(jid), 'state', 'runner', 'sub')
  local deadline = tonumber(redis.call('ZSCORE', P .. 'leases', jid))
  if job[1] == 'leased' and job[2] == rid and deadline and deadline > now then
    local sub = redis.call('HMGET', sub_key(job[3]), 'source', 'revision')
    if digest == sub[1] or digest == sub[2] or
        redis.call('SISMEMBER', P .. 'revision:' .. sub[2], digest) == 1 then
      return 1
    end
  end
end
return 0
