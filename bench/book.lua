-- wrk script for bench/booking.py: each thread cycles through its share of prepared bookings
-- (token, pack, slot) and counts the status codes it gets back.
local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(args[2])
  apikey = args[3]
  lines = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == tid then
      table.insert(lines, line)
    end
    i = i + 1
  end
  statuses = {}
end

request = function()
  local line = lines[counter]
  counter = counter % #lines + 1
  local token, pack, slot = line:match("([^|]+)|([^|]+)|([^|]+)")
  return wrk.format("POST", "/rest/v1/rpc/book_session", {
    ["apikey"] = apikey,
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, '{"pack_id":"' .. pack .. '","starts_at":"' .. slot .. '"}')
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
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "seconds": %.3f, "p50_us": %d, "p95_us": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    table.concat(parts, ", ")))
end
