-- wrk script for bench/load/load_v2.py. Arguments after `--`: MODE FILE.
--   get FILE     GET the paths listed in FILE, one per line, in rotation.
--   dedup FILE   POST /api/v2/render; FILE lines are "<api key>\t<JSON body>", bodies already
--                rendered for that key, so every answer should be 200 with "cached": true.
--   unique FILE  POST /api/v2/render with a title nobody asked for before, rotating over the
--                API keys in FILE (one per user, so the per-user burst limit stays out of the way).
--   v1           GET /api/og, anonymous, with the same card and new titles as `unique`.
--   v1key FILE   the same with an x-api-key, rotating over the keys in FILE as `unique` does.
-- Requests are built once in init() where possible. The POST modes count 200 and 201 answers
-- (a response() callback costs wrk time, so the GET mode has none). done() prints one JSON line.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local function lines(path)
  local out = {}
  for line in io.lines(path) do
    if line ~= "" then table.insert(out, line) end
  end
  return out
end

local mode
local prepared = {}
local keys = {}
local index = 0
local counter = 0
-- Titles must be new to the server in every wrk run (the warm-up runs this script too).
local salt = os.time()
local palettes = { "midnight", "paper", "forest", "sunset", "ocean" }
n200, n201, n429, n503, nother = 0, 0, 0, 0, 0

local function count(status)
  if status == 200 then
    n200 = n200 + 1
  elseif status == 201 then
    n201 = n201 + 1
  elseif status == 429 then
    n429 = n429 + 1
  elseif status == 503 then
    n503 = n503 + 1
  else
    nother = nother + 1
  end
end

function init(args)
  mode = args[1]
  local rows = mode == "v1" and { "" } or lines(args[2])
  if mode == "get" then
    for _, path in ipairs(rows) do table.insert(prepared, wrk.format("GET", path)) end
  elseif mode == "dedup" then
    for _, row in ipairs(rows) do
      local key, body = row:match("^([^\t]+)\t(.+)$")
      table.insert(prepared, wrk.format("POST", "/api/v2/render",
        { ["x-api-key"] = key, ["content-type"] = "application/json" }, body))
    end
  elseif mode == "unique" or mode == "v1key" then
    keys = rows
  elseif mode ~= "v1" then
    error("unknown mode " .. tostring(mode))
  end
  -- Threads start at different places of the rotation.
  index = (tid * 7919) % #rows
  if mode ~= "get" then response = function(status) count(status) end end
end

local function title()
  counter = counter + 1
  return "Unique card " .. salt .. "-" .. tid .. "-" .. counter
    .. ": rendering under load"
end

request = function()
  index = index + 1
  if mode == "v1" or mode == "v1key" then
    local t = title()
    local headers = nil
    if mode == "v1key" then headers = { ["x-api-key"] = keys[index % #keys + 1] } end
    return wrk.format("GET", "/api/og?template=blog&title=" .. t:gsub(" ", "%%20"):gsub(":", "%%3A")
      .. "&author=Ada%20Lovelace&palette=" .. palettes[counter % #palettes + 1], headers)
  elseif mode == "unique" then
    local key = keys[index % #keys + 1]
    local body = '{"template":"blog","title":"' .. title() .. '","author":"Ada Lovelace","palette":"'
      .. palettes[counter % #palettes + 1] .. '"}'
    return wrk.format("POST", "/api/v2/render",
      { ["x-api-key"] = key, ["content-type"] = "application/json" }, body)
  end
  return prepared[index % #prepared + 1]
end

done = function(summary, latency, requests)
  local s = { n200 = 0, n201 = 0, n429 = 0, n503 = 0, nother = 0 }
  for _, t in ipairs(threads) do
    for name, n in pairs(s) do s[name] = n + (t:get(name) or 0) end
  end
  wrk_json(summary, latency, {
    status_200 = s.n200, status_201 = s.n201, status_429 = s.n429, status_503 = s.n503,
    status_other = s.nother,
  })
end
