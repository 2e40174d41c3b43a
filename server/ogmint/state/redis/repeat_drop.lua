--! include _repeats.lua
-- KEYS: entries, order, bytes (see _repeats.lua). ARGV: etag, storage key, template-set prefix.
-- Drops the entry if it still refers to that storage key.
local packed = redis.call('HGET', KEYS[1], ARGV[1])
if packed and cjson.decode(packed).key == ARGV[2] then
  drop_repeat(ARGV[1], ARGV[3], {})
end
return 1
