-- Counts one render on its day (field '' = count nothing: a failed request) and puts it at
-- the head of the user's recent list, trimmed to ``length``. Used by track.lua and by the
-- atomic steps, so tracking costs no round trip of its own on the render paths.
local function track(day_key, recent_key, field, expire_at, entry, length)
  if field ~= '' then
    redis.call('HINCRBY', day_key, field, 1)
    redis.call('EXPIREAT', day_key, expire_at)
  end
  redis.call('LPUSH', recent_key, entry)
  redis.call('LTRIM', recent_key, 0, tonumber(length) - 1)
end
