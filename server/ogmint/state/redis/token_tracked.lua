--! include _bucket.lua
--! include _track.lua
-- KEYS: bucket, day hash, recent list. ARGV: rate, burst, then the 8 tracking values.
-- Takes a token and, when one was there, tracks the render (a dedup hit answered from the
-- worker's memory): {allowed, whole tokens left, reset}.
local b = take_token(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
if b[1] == 1 then track(KEYS[2], KEYS[3], track_argv(3)) end
return b
