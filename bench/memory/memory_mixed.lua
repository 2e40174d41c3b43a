-- wrk script for bench/memory_bench.py: mixed V1 traffic. Most requests are new cards across
-- every built-in template, size preset, scale and format (each 200 a real render); one in five
-- asks again for a card this thread asked for before (a repeat, from the repeat cache).
-- done() prints a JSON summary line.

local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end

local templates = { "blog", "minimal", "quote", "event", "docs", "product", "changelog" }
local palettes = { "midnight", "paper", "forest", "sunset", "ocean" }
local sizes = { "og", "twitter", "linkedin", "square", "portrait", "story", "800x400" }
local formats = { "png", "png", "webp", "jpeg" }
local counter = 0
local prefix = ""

function init(args)
  prefix = args[1] or ""
end

local function card(n)
  local size = sizes[math.floor(n / 7) % #sizes + 1]
  -- @2x of the landscape sizes only: a 2160x3840 story is a render of its own class
  local scale = (n % 11 == 0 and (size == "og" or size == "800x400")) and "&scale=2" or ""
  return "/api/og?template=" .. templates[n % #templates + 1]
    .. "&title=Mixed%20card%20" .. prefix .. tid .. "-" .. n .. "%3A%20memory%20under%20load"
    .. "&author=Ada%20Lovelace"
    .. "&palette=" .. palettes[n % #palettes + 1]
    .. "&size=" .. size
    .. "&format=" .. formats[math.floor(n / 3) % #formats + 1]
    .. scale
end

request = function()
  counter = counter + 1
  if counter % 5 == 0 and counter > 10 then
    return wrk.format("GET", card(counter - 7))  -- a repeat
  end
  return wrk.format("GET", card(counter))
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non_2xx_3xx": %d, '
      .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
