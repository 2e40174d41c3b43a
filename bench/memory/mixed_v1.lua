-- wrk script for bench/memory_bench.py --mixed: every request a different card, in every
-- output format and at sizes from the smallest preset to a retina copy, so each 200 is one
-- real render and the worker's caches see every size. done() prints a JSON summary line.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Periods 7, 3 and 2 are coprime: every size meets every format and palette. Two palettes
-- keep the 14 backgrounds (~80 MB of pixels) within a worker's background cache, so the run
-- measures steady renders rather than re-rasterised backgrounds.
local palettes = { "midnight", "paper" }
local sizes = {
  "size=og", "size=og&scale=2", "size=twitter", "size=square", "size=portrait",
  "size=story", "size=1000x500",
}
local formats = { "png", "webp", "jpeg" }
local counter = 0
local prefix = ""

function init(args)
  prefix = args[1] or ""
end

request = function()
  counter = counter + 1
  local path = "/api/og?template=blog"
    .. "&title=Mixed%20card%20" .. prefix .. tid .. "-" .. counter .. "%3A%20every%20size%20and%20format"
    .. "&author=Ada%20Lovelace"
    .. "&palette=" .. palettes[counter % #palettes + 1]
    .. "&" .. sizes[counter % #sizes + 1]
    .. "&format=" .. formats[counter % #formats + 1]
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
