--! include _consume.lua
-- KEYS: counter. ARGV: limit, 'day'|'month'.
return consume(KEYS[1], tonumber(ARGV[1]), ARGV[2])
