--! include _repeats.lua
-- KEYS: entries, order, bytes (see _repeats.lua), the template's set. ARGV: template-set
-- prefix. Drops every entry of the template; returns their storage keys.
local freed = {}
for _, etag in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  drop_repeat(etag, ARGV[1], freed)
end
redis.call('DEL', KEYS[4])
return freed
