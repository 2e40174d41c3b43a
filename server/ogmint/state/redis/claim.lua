-- KEYS: claim, finished render. ARGV: ttl (ms). 1 when claimed; 0 if claimed or already done.
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
