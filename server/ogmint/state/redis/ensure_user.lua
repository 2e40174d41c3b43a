-- KEYS: user. ARGV: plan or ''. Creates the user (plan ``free``) or sets the plan; returns TIME.
if ARGV[1] == '' then
  redis.call('HSETNX', KEYS[1], 'plan', 'free')
else
  redis.call('HSET', KEYS[1], 'plan', ARGV[1])
end
return redis.call('TIME')
