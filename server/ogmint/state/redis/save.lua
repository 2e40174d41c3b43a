--! include _track.lua
-- KEYS: slug, dedup entry, claim, optionally the user's usage day hash and recent list, then
-- optionally delivery, slug's delivery list, stream.
-- ARGV: n, the render's n field/value args, '1' + the 8 tracking values or '0', then
-- optionally the delivery id and its fields.
-- Records the render (slug and dedup entry), tracks it, drops the claim and queues the
-- delivery, all or nothing: 0 if the slug or the dedup entry exists.
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local n = tonumber(ARGV[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2, n + 1))
redis.call('HSET', KEYS[2], unpack(ARGV, 2, n + 1))
redis.call('DEL', KEYS[3])
local at, k = n + 3, 4
if ARGV[n + 2] == '1' then
  track(KEYS[4], KEYS[5], track_argv(n + 3))
  at, k = n + 11, 6
end
if #KEYS >= k then
  local id = ARGV[at]
  redis.call('HSET', KEYS[k], unpack(ARGV, at + 1))
  redis.call('RPUSH', KEYS[k + 1], id)
  redis.call('XADD', KEYS[k + 2], '*', 'id', id)
end
return 1
