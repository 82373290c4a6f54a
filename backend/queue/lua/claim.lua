-- claim.lua: reclaims expired leases, then leases the oldest queued job this
-- runner can run (its language, checker and labels match what the runner
-- advertised; a Normal-OJ runner gets only jobs with a `noj` payload) to the
-- runner.
-- KEYS[1]: key prefix
-- ARGV[1]: runner id   ARGV[2]: the new lease (random)
-- ARGV[3]: lease time-to-live (ms)   ARGV[4]: max attempts
-- ARGV[5]: how many queued jobs to look at (the scan window)
-- ARGV[6..]: the jobs whose wakes brought the caller here
-- Returns: {'unknown_runner'} | {'slots_full'} |
--          {'none', languages, checkers, labels, dialect, jid…} (what the
--          runner offers, and those of ARGV[6..] that are still queued) |
--          {'ok', jid, sid, attempt, spec, noj}
local rid, lease = ARGV[1], ARGV[2]
local now = now_ms()
reclaim_expired(now, 100, tonumber(ARGV[4]))
local key = runner_key(rid)
local runner = redis.call('HMGET', key, 'languages', 'checkers', 'labels', 'slots', 'dialect')
if not runner[4] then return { 'unknown_runner' } end
if redis.call('SCARD', key .. ':jobs') >= tonumber(runner[4]) then return { 'slots_full' } end
local languages, checkers, labels = set_of(runner[1]), set_of(runner[2]), set_of(runner[3])
local normal_oj = runner[5] == 'normal-oj'

local function can_run(jid)
  local job = redis.call('HMGET', job_key(jid), 'language', 'checker', 'labels', 'noj')
  if not languages[job[1]] then return false end
  if normal_oj and (job[4] or '') == '' then return false end
  if job[2] and job[2] ~= '' and not checkers[job[2]] then return false end
  for label in string.gmatch(job[3] or '', '%S+') do
    if not labels[label] then return false end
  end
  return true
end

for _, jid in ipairs(redis.call('ZRANGE', P .. 'pending', 0, tonumber(ARGV[5]) - 1)) do
  if can_run(jid) then
    local job = job_key(jid)
    local attempt = redis.call('HINCRBY', job, 'attempt', 1)
    redis.call('HSET', job, 'state', 'leased', 'lease', lease, 'runner', rid)
    redis.call('ZREM', P .. 'pending', jid)
    redis.call('ZADD', P .. 'leases', now + tonumber(ARGV[3]), jid)
    redis.call('SADD', key .. ':jobs', jid)
    redis.call('PEXPIRE', key .. ':jobs', redis.call('PTTL', key))
    local sid = redis.call('HGET', job, 'sub')
    redis.call('HSET', sub_key(sid), 'status', 'JUDGING', 'attempt', attempt)
    append_event(sid, jid, { type = 'started', attempt = attempt, runner_id = rid })
    local spec = redis.call('HMGET', job, 'spec', 'noj')
    return { 'ok', jid, sid, tostring(attempt), spec[1], spec[2] or '' }
  end
end
local none = { 'none', runner[1] or '', runner[2] or '', runner[3] or '', runner[5] or '' }
for i = 6, #ARGV do
  if redis.call('ZSCORE', P .. 'pending', ARGV[i]) then table.insert(none, ARGV[i]) end
end
return none
