--! include _track.lua
-- KEYS: day hash, recent list. ARGV: the 8 tracking values. Tracks one render.
track(KEYS[1], KEYS[2], track_argv(1))
return 1
