--! include _consume.lua
--! include _track.lua
-- KEYS: quota, day hash, recent list. ARGV: monthly limit, then the 8 tracking values.
-- Charges one render of the month and, when charged, tracks it: {allowed, used, reset}.
local q = consume(KEYS[1], tonumber(ARGV[1]), 'month')
if q[1] == 1 then track(KEYS[2], KEYS[3], track_argv(2)) end
return q
