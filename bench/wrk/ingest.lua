-- wrk script for bench/ingest.ts: varied analytics events for POST /event (one per request) or
-- POST /events (a batch per request), exact accepted counts, optional constant rate, and a
-- graceful stop so that every request sent has been answered when the load ends.
--
-- Arguments after `--` (key=value):
--   tag=<text>       prefix of every event_id, unique per phase (ids are <tag>-<thread>-<n>)
--   batch=<n>        0: POST /event; n > 0: POST /events with n events per request
--   duration=<s>     seconds during which requests are started (per thread, from its first request)
--   rate=<req/s>     total request rate over all threads; 0 means as fast as possible
--   threads=<n>      must equal wrk's -t (the rate is split evenly across threads)
--   visit=<0|1>      1: events also carry the visit fields a browser's tracker or a site's server
--                    sends (user agent, referrer, UTM tags, screen width, address or country)
--
-- Output: one line `BENCH_THREAD_DONE <id>` per thread when it has stopped, and from done() one
-- line `BENCH_RESULT <json>` with the aggregated counters.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]

-- Wall-clock milliseconds (CLOCK_REALTIME), so bench/ingest.ts can compare them with Date.now().
local timespec = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(0, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

-- A parked connection waits longer than any run; the thread stops long before the timer fires.
local PARKED_MS = 3600 * 1000

---------------------------------------------------------------------------------------------------
-- setup / done: run in wrk's main Lua state

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

local function json_string(s)
  s = s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local total = { sent = 0, answered = 0, ok = 0, events_sent = 0, events_accepted = 0, events_refused = 0 }
  local statuses, stopped, first_ms, last_ms, sample = {}, 0, nil, nil, nil
  for _, thread in ipairs(threads) do
    for key in pairs(total) do total[key] = total[key] + (thread:get(key) or 0) end
    for code, n in pairs(thread:get("statuses") or {}) do statuses[code] = (statuses[code] or 0) + n end
    if thread:get("stopped_ms") then stopped = stopped + 1 end
    local started, ended = thread:get("started_ms"), thread:get("last_answer_ms")
    if started and (first_ms == nil or started < first_ms) then first_ms = started end
    if ended and (last_ms == nil or ended > last_ms) then last_ms = ended end
    sample = sample or thread:get("refusal_sample")
  end

  local fields = {}
  for key, value in pairs(total) do table.insert(fields, string.format('"%s":%d', key, value)) end
  local codes = {}
  for code, n in pairs(statuses) do table.insert(codes, string.format('"%s":%d', code, n)) end
  table.insert(fields, '"statuses":{' .. table.concat(codes, ",") .. "}")
  table.insert(fields, string.format('"threads":%d,"threads_stopped":%d', #threads, stopped))
  table.insert(fields, string.format('"first_request_ms":%.3f', first_ms or 0))
  table.insert(fields, string.format('"last_answer_ms":%.3f', last_ms or 0))
  local e = summary.errors
  table.insert(fields, string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
    e.connect, e.read, e.write, e.status, e.timeout))
  -- Latencies in microseconds, as measured by wrk from write of the request to end of response.
  table.insert(fields, string.format('"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}',
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
  if sample then table.insert(fields, '"refusal_sample":' .. json_string(sample)) end
  io.write("BENCH_RESULT {" .. table.concat(fields, ",") .. "}\n")
  io.stdout:flush()
end

---------------------------------------------------------------------------------------------------
-- init / delay / request / response: run in each thread's own Lua state

-- Skewed popularity: P(rank k) proportional to 1 / k^s.
local function zipf_cdf(n, s)
  local cdf, total = {}, 0
  for k = 1, n do
    total = total + 1 / k ^ s
    cdf[k] = total
  end
  for k = 1, n do cdf[k] = cdf[k] / total end
  return cdf
end

local function pick(cdf)
  local u, lo, hi = math.random(), 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return lo
end

local site_cdf, path_cdf = zipf_cdf(50, 1.1), zipf_cdf(1000, 1.0)
local sites, paths = {}, {}
for k = 1, 50 do sites[k] = string.format("site-%02d", k) end
for k = 1, 1000 do paths[k] = k == 1 and "/" or string.format("/docs/page-%d", k) end

local USERS = 100000
local NULL_USER_SHARE = 0.1 -- anonymous visitors
local CLICK_SHARE = 0.15    -- the rest are page views

-- Visit fields: real browsers only (a bot's events are dropped, which would end the exactly-once
-- count), referrers from search, social, news and other sites, the site itself or none, UTM tags
-- on about a fifth of events, screen widths on most, public addresses over several countries on
-- half, a posted country on some. Each identified user keeps one profile, so visits form with
-- their entry properties; fragments are built once, so an event costs one more %s.
local AGENTS = {
  { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", { 1920, 1536, 1366, 2560 } },
  { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", { 1920, 1536 } },
  { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", { 1920, 1366 } },
  { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", { 1440, 1512, 1728 } },
  { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", { 1440, 1512 } },
  { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", { 1920, 2560 } },
  { "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", { 390, 393, 430 } },
  { "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1", { 820, 1024 } },
  { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", { 412, 360, 384 } },
  { "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", { 384, 412 } },
}
local REFERRERS = {
  { 0.25, "https://www.google.com/" }, { 0.05, "https://www.google.de/search?q=analytics" }, { 0.03, "https://www.bing.com/" },
  { 0.06, "https://www.facebook.com/" }, { 0.03, "https://l.facebook.com/l.php?u=x" }, { 0.04, "https://news.ycombinator.com/item?id=42000000" },
  { 0.03, "https://www.reddit.com/r/selfhosted/" }, { 0.02, "https://t.co/abc123" }, { 0.05, "https://blog.example.org/posts/analytics" },
  { 0.04, "https://docs.example.net/guide#setup" }, { 0.10, "SELF" }, { 0.30, nil },
}
local UTMS = {
  '"utm_source":"newsletter","utm_medium":"email","utm_campaign":"december"',
  '"utm_source":"google","utm_medium":"cpc","utm_campaign":"brand","utm_term":"web analytics"',
  '"utm_source":"facebook","utm_medium":"paid_social","utm_campaign":"launch","utm_content":"video"',
  '"utm_source":"twitter","utm_medium":"social","utm_campaign":"launch"',
  '"utm_source":"partner","utm_medium":"referral"',
}
local ADDRESSES = { "8.8.8.8", "24.0.0.1", "99.0.0.1", "81.2.69.142", "212.58.244.1", "46.4.0.1", "217.0.0.1", "80.67.169.12",
  "91.198.174.192", "213.0.0.1", "200.160.2.3", "133.11.0.1", "1.1.1.1", "14.139.0.1", "41.0.0.1", "186.0.0.1" }
local COUNTRIES = { "US", "GB", "DE", "FR", "CA", "IN", "JP", "BR" }
local PROFILES = 1024
local profiles

local function weighted(list)
  local u, acc = math.random(), 0
  for _, item in ipairs(list) do
    acc = acc + item[1]
    if u < acc then return item[2] end
  end
  return list[#list][2]
end

local function profile_json()
  local agent = AGENTS[math.random(#AGENTS)]
  local parts = { string.format('"user_agent":"%s"', agent[1]) }
  if math.random() < 0.8 then table.insert(parts, string.format('"screen_width":%d', agent[2][math.random(#agent[2])])) end
  local referrer = weighted(REFERRERS)
  if referrer == "SELF" then referrer = "https://www.example.com/" end
  if referrer then table.insert(parts, string.format('"referrer":"%s"', referrer)) end
  if math.random() < 0.2 then table.insert(parts, UTMS[math.random(#UTMS)]) end
  local where = math.random()
  if where < 0.5 then
    table.insert(parts, string.format('"ip":"%s"', ADDRESSES[math.random(#ADDRESSES)]))
  elseif where < 0.65 then
    table.insert(parts, string.format('"country":"%s"', COUNTRIES[math.random(#COUNTRIES)]))
  end
  return "," .. table.concat(parts, ",")
end

local tag, batch, duration_ms, interval_ms, path
local counter = 0
local cached_second, cached_timestamp = -1, nil

function init(args)
  local options = { tag = "bench", batch = "0", duration = "15", rate = "0", threads = "1", visit = "0" }
  for _, arg in ipairs(args) do
    local key, value = arg:match("^(%w+)=(.*)$")
    if key then options[key] = value end
  end
  tag = options.tag
  batch = tonumber(options.batch)
  duration_ms = tonumber(options.duration) * 1000
  local rate = tonumber(options.rate)
  -- Per-thread spacing between request starts; 0 means no pacing.
  interval_ms = rate > 0 and 1000 * tonumber(options.threads) / rate or 0
  path = batch > 0 and "/events" or "/event"
  if options.visit == "1" then
    -- The same profiles in every thread, so a user keeps one wherever its events come from.
    math.randomseed(20261203)
    profiles = {}
    for k = 1, PROFILES do profiles[k] = profile_json() end
  end
  math.randomseed(thread_id * 7919 + os.time())

  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"

  sent, answered, ok = 0, 0, 0
  events_sent, events_accepted, events_refused = 0, 0, 0
  statuses = {}
  started_ms, stopped_ms, last_answer_ms, refusal_sample = nil, nil, nil, nil
end

local function timestamp()
  local second = os.time()
  if second ~= cached_second then
    cached_second, cached_timestamp = second, os.date("!%Y-%m-%dT%H:%M:%SZ", second)
  end
  return cached_timestamp
end

local function event_json()
  counter = counter + 1
  local n = math.random() < NULL_USER_SHARE and 0 or math.random(USERS)
  local user = n == 0 and "null" or string.format('"u%d"', n)
  local kind = math.random() < CLICK_SHARE and "click" or "page_view"
  local extra = profiles and profiles[n == 0 and math.random(PROFILES) or n % PROFILES + 1] or ""
  return string.format('{"site_id":"%s","event_type":"%s","path":"%s","user_id":%s,"timestamp":"%s","event_id":"%s-%d-%d"%s}',
    sites[pick(site_cdf)], kind, paths[pick(path_cdf)], user, timestamp(), tag, thread_id, counter, extra)
end

local deadline_ms
-- Requests paced so far; the n-th is due at started_ms + n * interval_ms. (Adding interval_ms to
-- an epoch timestamp would round at every step: doubles near 1.8e12 have ~0.0002 ms resolution.)
local paced = 0
local stopping = false
-- Requests delay() has let through that request() has not built yet. wrk may still fire their
-- timers in the loop iteration in which the thread is stopped, so it stops only when this is 0.
local granted = 0

local function stop_when_idle()
  if stopping and stopped_ms == nil and granted == 0 and answered == sent then
    stopped_ms = now_ms()
    io.write("BENCH_THREAD_DONE " .. thread_id .. "\n")
    io.stdout:flush()
    wrk.thread:stop()
  end
end

-- Called before every request (including the first on each connection): paces the thread when a
-- rate is set, and after the deadline parks the connection instead of sending, so the load ends
-- with no request in flight and every 202 is counted.
function delay()
  local now = now_ms()
  if started_ms == nil then
    started_ms, deadline_ms = now, now + duration_ms
  end
  if not stopping then
    local due = now
    if interval_ms > 0 then
      due = started_ms + paced * interval_ms
      paced = paced + 1
    end
    if due < deadline_ms then
      granted = granted + 1
      return due > now and math.floor(due - now) or 0
    end
    stopping = true
  end
  stop_when_idle()
  return PARKED_MS
end

function request()
  local body
  if batch > 0 then
    local events = {}
    for i = 1, batch do events[i] = event_json() end
    body = '{"events":[' .. table.concat(events, ",") .. "]}"
  else
    body = event_json()
  end
  -- wrk calls request() once before the run, to detect pipelining, and never sends that probe.
  -- Every real request follows a delay() call, which sets started_ms.
  if started_ms ~= nil then
    granted = math.max(granted - 1, 0) -- a resend after a reconnect has no grant
    sent = sent + 1
    events_sent = events_sent + math.max(batch, 1)
  end
  return wrk.format(nil, path, nil, body)
end

function response(status, headers, body)
  answered = answered + 1
  last_answer_ms = now_ms()
  local code = tostring(status)
  statuses[code] = (statuses[code] or 0) + 1
  if status == 202 then
    ok = ok + 1
    if batch > 0 then
      events_accepted = events_accepted + (tonumber(body:match('"accepted":(%d+)')) or 0)
      events_refused = events_refused + (tonumber(body:match('"refused":(%d+)')) or 0)
    else
      events_accepted = events_accepted + 1
    end
  elseif refusal_sample == nil then
    refusal_sample = code .. " " .. body:sub(1, 300)
  end
  stop_when_idle()
end
