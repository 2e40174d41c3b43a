-- The repeat cache's index: KEYS[1] hash etag -> entry (JSON), KEYS[2] zset etag by save
-- time (ms), KEYS[3] the total of the entries' sizes. A custom template's entries are also in
-- the set ``template_prefix .. template`` (the same hash slot, so its name is built here).
-- Drops one entry; appends its storage key to ``freed``.
local function drop_repeat(etag, template_prefix, freed)
  local packed = redis.call('HGET', KEYS[1], etag)
  redis.call('ZREM', KEYS[2], etag)
  if not packed then return end
  redis.call('HDEL', KEYS[1], etag)
  local entry = cjson.decode(packed)
  redis.call('DECRBY', KEYS[3], entry.size)
  if entry.template ~= '' then
    redis.call('SREM', template_prefix .. entry.template, etag)
  end
  table.insert(freed, entry.key)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
