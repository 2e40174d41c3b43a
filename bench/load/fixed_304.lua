-- wrk script for bench/load/signed_v1.py (and repeat_v1.py): one fixed V1 path, always revalidated with If-None-Match,
-- so every answer is a 304 (no rendering hides the per-request cost). done() prints a JSON line.
-- Arguments (after --): the path, the ETag, and optionally an x-api-key.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local path, etag, key

function init(args)
  path, etag, key = args[1], args[2], args[3]
end

request = function()
  local headers = { ["If-None-Match"] = etag }
  if key then headers["x-api-key"] = key end
  return wrk.format("GET", path, headers)
end

done = function(summary, latency, requests)
  wrk_json(summary, latency)
end
