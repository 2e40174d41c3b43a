-- KEYS: delivery, attempts, retry zset, stream. ARGV: stream entry, group, attempt JSON, state,
-- retry delay (ms), delivery id. Records the attempt, schedules a retry, acks the entry. While a
-- redelivery is queued (another entry), the attempt is recorded but the state left to it.
redis.call('XACK', KEYS[4], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[4], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
local attempt = cjson.decode(ARGV[3])
attempt['number'] = n
redis.call('RPUSH', KEYS[2], cjson.encode(attempt))
local redeliver = redis.call('HGET', KEYS[1], 'redeliver')
if redeliver and redeliver ~= ARGV[1] then return n end
redis.call('HDEL', KEYS[1], 'redeliver')
local next_at = ''
if ARGV[4] == 'pending' then
  next_at = now + tonumber(ARGV[5])
  redis.call('ZADD', KEYS[3], next_at, ARGV[6])
end
redis.call('HSET', KEYS[1], 'state', ARGV[4], 'next_at', next_at)
return n
