--! include _repeats.lua
-- KEYS: entries, order, bytes (see _repeats.lua). ARGV: etag, ttl (ms).
-- The entry (JSON) if it was saved less than ttl ago, else nil.
local saved = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not saved or tonumber(saved) <= now_ms() - tonumber(ARGV[2]) then
  return false
end
return redis.call('HGET', KEYS[1], ARGV[1])
