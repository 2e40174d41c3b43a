-- Takes a token from a bucket hash (``rate`` tokens/s, ``burst`` capacity) if one is there.
-- Returns {allowed, whole tokens left, reset}.
local function take_token(key, rate, burst)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  local cur = redis.call('HMGET', key, 'tokens', 'updated')
  local tokens = burst
  if cur[1] then
    tokens = math.min(burst, tonumber(cur[1]) + math.max(now - tonumber(cur[2]), 0) * rate)
  end
  local allowed = 0
  if tokens >= 1 then
    allowed = 1
    tokens = tokens - 1
  end
  redis.call('HSET', key, 'tokens', string.format('%.17g', tokens),
    'updated', string.format('%.17g', now))
  redis.call('PEXPIRE', key, math.ceil((burst - tokens) / rate * 1000) + 1000)
  local wait = 0
  if tokens < 1 then wait = (1 - tokens) / rate end
  return {allowed, math.floor(tokens), math.floor(now + wait) + 1}
end
