-- wrk script for bench/load/load_v1.py: every request asks for a different card, so nothing is
-- served from a cache and each 200 is one real render. done() prints a JSON summary line.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local palettes = { "midnight", "paper", "forest", "sunset", "ocean" }
local counter = 0
local prefix = ""

-- An optional argument (after --) is put in every title, so that runs repeat no card.
function init(args)
  prefix = args[1] or ""
end

request = function()
  counter = counter + 1
  local path = "/api/og?template=blog"
    .. "&title=Unique%20card%20" .. prefix .. tid .. "-" .. counter .. "%3A%20rendering%20under%20load"
    .. "&author=Ada%20Lovelace"
    .. "&palette=" .. palettes[counter % #palettes + 1]
  return wrk.format("GET", path)
end

done = function(summary, latency, requests)
  wrk_json(summary, latency)
end
