-- Render tracking (the usage aggregate), pulled into the render scripts so it costs no round
-- trip of its own. ``t`` is the 8 ARGV values from ``RedisUsage.track_args``: expire-at of
-- the day's counts (Unix s), list length, at, kind, template, title, status, slug; ``day_key``
-- and ``recent_key`` are the user's day hash and recent list.
local function track_entry(t, slug)
  return cjson.encode({t[3], t[4], t[5], t[6], tonumber(t[7]), slug or t[8]})
end

-- Counts the render on its day (failed requests, status >= 400, are only listed) and puts it
-- at the head of the recent list, trimmed to its length. ``slug`` overrides t's (dedup hits
-- learn theirs in the script).
local function track(day_key, recent_key, t, slug)
  -- The expiry is set with a kind's first render of the day, the trim once the list is over
  -- its length: one command each on most calls.
  if tonumber(t[7]) < 400 and redis.call('HINCRBY', day_key, t[4], 1) == 1 then
    redis.call('EXPIREAT', day_key, t[1])
  end
  if redis.call('LPUSH', recent_key, track_entry(t, slug)) > tonumber(t[2]) then
    redis.call('LTRIM', recent_key, 0, tonumber(t[2]) - 1)
  end
end

-- The ARGV values from ``first`` on, as the 8 tracking values.
local function track_argv(first)
  return {unpack(ARGV, first, first + 7)}
end
