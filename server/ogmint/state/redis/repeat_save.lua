--! include _repeats.lua
-- KEYS: entries, order, bytes (see _repeats.lua). ARGV: etag, entry (JSON with key, size,
-- type, template), size, template, ttl (ms), max bytes, template-set prefix.
-- Returns the storage keys no entry refers to any more.
local etag, size, template = ARGV[1], tonumber(ARGV[3]), ARGV[4]
local ttl, max_bytes, prefix = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local now = now_ms()
local freed = {}
drop_repeat(etag, prefix, freed)
redis.call('HSET', KEYS[1], etag, ARGV[2])
redis.call('ZADD', KEYS[2], now, etag)
redis.call('INCRBY', KEYS[3], size)
if template ~= '' then
  redis.call('SADD', prefix .. template, etag)
end
-- Expired entries, a bounded number per save (saves come as often as entries appear).
for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl, 'LIMIT', 0, 64)) do
  drop_repeat(old, prefix, freed)
end
while tonumber(redis.call('GET', KEYS[3]) or '0') > max_bytes do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #oldest == 0 then
    redis.call('SET', KEYS[3], 0)
    break
  end
  drop_repeat(oldest[1], prefix, freed)
end
return freed
