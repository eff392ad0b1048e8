-- wrk script for bench/availability.py: each thread cycles through its share of prepared GET
-- paths (one per line), sends them with the apikey, and counts the status codes it gets back.
local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(args[2])
  apikey = args[3]
  paths = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == tid then
      table.insert(paths, line)
    end
    i = i + 1
  end
  if #paths == 0 then  -- fewer paths than threads: this thread sends them all
    for line in io.lines(args[1]) do
      table.insert(paths, line)
    end
  end
  statuses = {}
end

request = function()
  local path = paths[counter]
  counter = counter % #paths + 1
  return wrk.format("GET", path, {["apikey"] = apikey})
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "seconds": %.3f, "mean_us": %.1f, "p50_us": %d, "p95_us": %d,'
      .. ' "socket_errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, latency.mean, latency:percentile(50),
    latency:percentile(95), e.connect + e.read + e.write + e.timeout, table.concat(parts, ", ")))
end
