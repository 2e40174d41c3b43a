-- KEYS: template hash. ARGV: field/value pairs. Sets them on an existing template only;
-- returns the stored meta fields (created_at included), or {} if there is none.
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('HSET', KEYS[1], unpack(ARGV))
return redis.call('HMGET', KEYS[1], 'id', 'owner', 'name', 'version', 'fields', 'created_at',
  'updated_at', 'sizes')
