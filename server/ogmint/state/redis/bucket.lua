--! include _bucket.lua
-- KEYS: bucket. ARGV: rate (tokens/s), burst.
return take_token(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
