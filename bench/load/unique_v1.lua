-- wrk script for bench/load_v1.py: every request asks for a different card, so nothing is
-- served from a cache and each 200 is one real render. done() prints a JSON summary line.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

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
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non_2xx_3xx": %d, '
      .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
