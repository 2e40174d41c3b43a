-- What the benchmarks' wrk scripts share, loaded by each of them:
--   dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
-- setup() numbers the threads (`tid` in each, `threads` for done()); wrk_json() prints the one
-- line `WRK_JSON {...}` that bench/harness.py `wrk` reads.

threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Prints the summary; `extra` (optional) is a table of more integer fields.
function wrk_json(summary, latency, extra)
  local e = summary.errors
  local fields = {
    string.format('"requests": %d, "duration_us": %d, "bytes": %d, "non_2xx_3xx": %d',
      summary.requests, summary.duration, summary.bytes, e.status),
    string.format('"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d',
      e.connect, e.read, e.write, e.timeout),
    string.format('"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d',
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max),
  }
  local names = {}
  for name in pairs(extra or {}) do table.insert(names, name) end
  table.sort(names)
  for _, name in ipairs(names) do
    table.insert(fields, string.format('"%s": %d', name, extra[name]))
  end
  io.write("WRK_JSON {" .. table.concat(fields, ", ") .. "}\n")
end
