--! include _track.lua
-- KEYS: day hash, recent list. ARGV: field ('' = count nothing), expire-at (Unix s), entry
-- (JSON), list length.
track(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return 1
