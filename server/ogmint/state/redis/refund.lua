--! include _window.lua
-- KEYS: counter. ARGV: 'day'|'month'. Gives back one use of the current window, never below 0.
local id = window(ARGV[1])
local cur = redis.call('HMGET', KEYS[1], 'w', 'n')
if cur[1] == id and tonumber(cur[2]) > 0 then
  redis.call('HSET', KEYS[1], 'n', tostring(tonumber(cur[2]) - 1))
end
return 0
