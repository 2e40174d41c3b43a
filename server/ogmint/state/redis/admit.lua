--! include _consume.lua
--! include _bucket.lua
--! include _track.lua
-- KEYS: bucket, finished render, claim, quota, optionally the user's usage day hash and recent
-- list. ARGV: rate ('' = take no token), burst, monthly limit, claim ttl (ms), with the usage
-- keys the 8 tracking values of a dedup hit (tracked when it is one). Returns {outcome, bucket reply or {}, render hash or quota reply}:
-- burst | exists | busy | quota | claimed (see ``AtomicSteps.admit_render``).
local b = {}
if ARGV[1] ~= '' then
  b = take_token(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
  if b[1] == 0 then return {'burst', b} end
end
local done = redis.call('HGETALL', KEYS[2])
if #done > 0 then
  if #KEYS > 4 then
    local slug = ''
    for i = 1, #done, 2 do if done[i] == 'slug' then slug = done[i + 1] end end
    track(KEYS[5], KEYS[6], track_argv(5), slug)
  end
  return {'exists', b, done}
end
if redis.call('EXISTS', KEYS[3]) == 1 then return {'busy', b} end
local q = consume(KEYS[4], tonumber(ARGV[3]), 'month')
if q[1] == 0 then return {'quota', b, q} end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[4])
return {'claimed', b, q}
