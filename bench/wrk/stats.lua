-- GET requests over a list of paths (one per line in the file named by the first argument),
-- round robin from a per-thread offset. done() prints latency percentiles as one JSON line.
local paths = {}
local index = 0

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  index = math.random(#paths)
end

function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end

local non200 = 0
function response(status)
  if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency)
  io.write(string.format('{"requests":%d,"p50_us":%d,"p99_us":%d,"errors":%d}\n', summary.requests,
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
