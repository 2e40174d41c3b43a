-- KEYS: brand hash. ARGV: field/value pairs. Sets them on an existing brand only; returns the
-- stored meta fields (created_at included), or {} if there is none.
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('HSET', KEYS[1], unpack(ARGV))
return redis.call('HMGET', KEYS[1], 'id', 'owner', 'name', 'look', 'version', 'created_at',
  'updated_at')
