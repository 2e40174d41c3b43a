--! include _track.lua
-- KEYS: day hash, recent list. ARGV: the 8 tracking values of a render tracked as charged,
-- then the status it failed with. Uncounts it and lists it again as the failure it became.
local t = track_argv(1)
if redis.call('LREM', KEYS[2], 1, track_entry(t)) == 1 and tonumber(t[7]) < 400 then
  if tonumber(redis.call('HGET', KEYS[1], t[4]) or '0') > 0 then
    redis.call('HINCRBY', KEYS[1], t[4], -1)
  end
end
t[7] = ARGV[9]
track(KEYS[1], KEYS[2], t)
return 1
