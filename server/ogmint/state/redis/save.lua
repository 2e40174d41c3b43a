--! include _track.lua
-- KEYS: slug, dedup entry, claim, the owner's render list, optionally the user's usage day hash
-- and recent list, then optionally delivery, slug's delivery list, stream.
-- ARGV: n, the render's n field/value args, its member of the owner's list ('' = not listed),
-- '1' + the 8 tracking values or '0', then optionally the delivery id and its fields.
-- Records the render (slug, dedup entry, list entry), tracks it, drops the claim and queues
-- the delivery, all or nothing: 0 if the slug or the dedup entry exists.
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local n = tonumber(ARGV[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2, n + 1))
redis.call('HSET', KEYS[2], unpack(ARGV, 2, n + 1))
redis.call('DEL', KEYS[3])
if ARGV[n + 2] ~= '' then redis.call('ZADD', KEYS[4], 0, ARGV[n + 2]) end
local at, k = n + 4, 5
if ARGV[n + 3] == '1' then
  track(KEYS[5], KEYS[6], track_argv(n + 4))
  at, k = n + 12, 7
end
if #KEYS >= k then
  local id = ARGV[at]
  redis.call('HSET', KEYS[k], unpack(ARGV, at + 1))
  redis.call('RPUSH', KEYS[k + 1], id)
  redis.call('XADD', KEYS[k + 2], '*', 'id', id)
end
return 1
