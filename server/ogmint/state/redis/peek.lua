--! include _window.lua
-- KEYS: a counter hash. ARGV: its window kind. Returns {used in the current window, reset},
-- changing nothing.
local id, reset = window(ARGV[1])
local cur = redis.call('HMGET', KEYS[1], 'w', 'n')
if cur[1] == id then return {tonumber(cur[2]), reset} end
return {0, reset}
