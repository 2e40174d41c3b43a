-- Ends every session in a user's set but ``keep`` (a digest, '' for none).
local function end_sessions(set, prefix, keep)
  for _, s in ipairs(redis.call('SMEMBERS', set)) do
    if s ~= keep then
      redis.call('DEL', prefix .. 'session:' .. s)
      redis.call('SREM', set, s)
    end
  end
end
