-- put_problem.lua: stores (or replaces) a problem: its record and the set of
-- blobs its revision reads, in one step, so a problem is never half-stored.
-- KEYS[1]: key prefix
-- ARGV[1]: problem id   ARGV[2]: revision (manifest digest)
-- ARGV[3]: record (JSON)   ARGV[4..]: blob digests of the revision's files
-- Returns: 'created' | 'replaced'.
local id, revision = ARGV[1], ARGV[2]
local set = P .. 'revision:' .. revision
for i = 4, #ARGV, 500 do
  redis.call('SADD', set, unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
local existed = redis.call('EXISTS', P .. 'problem:' .. id)
redis.call('SET', P .. 'problem:' .. id, ARGV[3])
redis.call('SET', P .. 'problem-revision:' .. id, revision)
redis.call('SADD', P .. 'problems', id)
if existed == 1 then return 'replaced' end
return 'created'
