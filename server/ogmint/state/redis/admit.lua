--! include _consume.lua
--! include _bucket.lua
-- KEYS: bucket, finished render, claim, quota. ARGV: rate ('' = take no token), burst, monthly
-- limit, claim ttl (ms). Returns {outcome, bucket reply or {}, render hash or quota reply}:
-- burst | exists | busy | quota | claimed (see ``AtomicSteps.admit_render``).
local b = {}
if ARGV[1] ~= '' then
  b = take_token(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
  if b[1] == 0 then return {'burst', b} end
end
local done = redis.call('HGETALL', KEYS[2])
if #done > 0 then return {'exists', b, done} end
if redis.call('EXISTS', KEYS[3]) == 1 then return {'busy', b} end
local q = consume(KEYS[4], tonumber(ARGV[3]), 'month')
if q[1] == 0 then return {'quota', b, q} end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[4])
return {'claimed', b, q}
