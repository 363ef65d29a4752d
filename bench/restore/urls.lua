-- wrk script for the restore benchmark.
-- Arguments (after `--`): a file of URL paths, one a line; optionally an Accept-Encoding value.
-- Every request takes the next path of the list (each thread starts at its own offset), so the load spreads over
-- all ids/versions instead of one URL. At the end it prints one machine-readable line starting with WRK_JSON.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local requests = {}
local n = 0
local i = 0

function init(args)
  local file = args[1]
  local accept = args[2]
  local headers = {}
  if accept ~= nil and accept ~= "" then
    headers["Accept-Encoding"] = accept
  end
  for line in io.lines(file) do
    if line ~= "" then
      n = n + 1
      requests[n] = wrk.format("GET", line, headers)
    end
  end
  if n == 0 then
    error("no URLs in " .. file)
  end
  i = (tid * 7919) % n
end

function request()
  i = i % n + 1
  return requests[i]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end
