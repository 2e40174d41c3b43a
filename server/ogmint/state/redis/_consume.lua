--! include _window.lua
-- Counts one use of a counter hash in the current window if below ``limit``.
-- Returns {allowed, used after this call, reset}.
local function consume(key, limit, kind)
  local id, reset = window(kind)
  local cur = redis.call('HMGET', key, 'w', 'n')
  local used = 0
  if cur[1] == id then used = tonumber(cur[2]) end
  if used >= limit then return {0, used, reset} end
  redis.call('HSET', key, 'w', id, 'n', tostring(used + 1))
  redis.call('EXPIREAT', key, reset)
  return {1, used + 1, reset}
end
