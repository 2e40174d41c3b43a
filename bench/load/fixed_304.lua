-- wrk script for bench/signed_v1.py: one fixed V1 path, always revalidated with If-None-Match,
-- so every answer is a 304 (no rendering hides the per-request cost). done() prints a JSON line.
-- Arguments (after --): the path, the ETag, and optionally an x-api-key.

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
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non_2xx_3xx": %d, '
      .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
