-- wrk script for POST /v1/events: every request has its own Idempotency-Key and a JSON
-- body of ~740 bytes (a ~700-byte payload) carrying its send time, so the receiver can
-- measure accept-to-delivered latency.
--
--   wrk -t2 -c32 -d60s -s bench/ingest.lua http://127.0.0.1:18480/v1/events -- API_KEY PREFIX [option=value ...]
--
-- Options:
--   endpoints=id1,id2,...  target these endpoints round-robin (endpoint_id in the body);
--                          without it the event fans out to the tenant's endpoints
--   rate=R threads=T       pace the run at R requests/s in total (T = wrk's -t), sending on a
--                          fixed schedule like an open-loop client while connections allow
--   quota=N threads=T      each thread stops after N/T responses (then SIGINT ends wrk)
--   type=NAME              the events' type (default bench.ingest)
--   payload=typed          a payload of the same size shaped like a typical event (10 properties,
--                          a nested object, an enum, patterned strings), for bench/schema.sh
--
-- At the end it prints one machine-readable line starting with "BENCH".

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now_us()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec)
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  table.insert(threads, thread)
end

local pad = string.rep("x", 630)
local typed_pad = string.rep("x", 430)
local statuses = { "new", "paid", "shipped", "cancelled" }
local key_prefix, endpoints, counter = nil, nil, 0
local event_type, typed = "bench.ingest", false
local headers = {}

function init(args)
  headers["Authorization"] = "Bearer " .. args[1]
  headers["Content-Type"] = "application/json"
  key_prefix = args[2] .. "-" .. thread_id .. "-"
  local opts = {}
  for i = 3, #args do
    local k, v = string.match(args[i], "([^=]+)=(.*)")
    if k then opts[k] = v end
  end
  if opts.endpoints and opts.endpoints ~= "" then
    endpoints = {}
    for id in string.gmatch(opts.endpoints, "[^,]+") do table.insert(endpoints, id) end
  end
  if opts.type then event_type = opts.type end
  typed = opts.payload == "typed"
  local nthreads = tonumber(opts.threads or "1")
  if opts.rate then
    -- This thread's share of the rate, as a schedule: each send takes the next slot.
    local period_ms = 1000.0 * nthreads / tonumber(opts.rate)
    local next_at = nil
    delay = function()
      local now = now_us() / 1000.0
      if next_at == nil then next_at = now end
      local slot = next_at
      next_at = next_at + period_ms
      local d = slot - now
      if d < 0 then return 0 end
      return math.floor(d)
    end
  end
  if opts.quota then
    local quota = math.ceil(tonumber(opts.quota) / nthreads)
    local seen = 0
    response = function(status, hdrs, body)
      seen = seen + 1
      if seen >= quota then wrk.thread:stop() end
    end
  end
end

function request()
  counter = counter + 1
  local target = ""
  if endpoints then
    target = '"endpoint_id":"' .. endpoints[(counter % #endpoints) + 1] .. '",'
  end
  local payload
  if typed then
    payload = '{"id":"ord_' .. counter .. '","sent_us":' .. string.format("%.0f", now_us()) .. ',"seq":' .. counter
      .. ',"source":"zyven-bench","status":"' .. statuses[(counter % 4) + 1] .. '","amount":' .. (counter % 1000) .. '.5'
      .. ',"currency":"EUR","customer":{"id":"cus_' .. (counter % 97) .. '","email":"c' .. (counter % 97)
      .. '@example.com","name":"Customer ' .. (counter % 97) .. '"},"tags":["bench","typed"],"pad":"' .. typed_pad .. '"}'
  else
    payload = '{"sent_us":' .. string.format("%.0f", now_us()) .. ',"seq":' .. counter .. ',"source":"zyven-bench","pad":"'
      .. pad .. '"}'
  end
  local body = '{"type":"' .. event_type .. '",' .. target .. '"payload":' .. payload .. '}'
  headers["Idempotency-Key"] = key_prefix .. counter
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_s=%.3f rate=%.1f connect_errors=%d read_errors=%d write_errors=%d "
      .. "status_errors=%d timeouts=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f mean_ms=%.2f\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000, latency.mean / 1000))
end
