-- Refresh rotation chains: each request spends one refresh token and the answer's new one goes
-- back to the pool. wrk ... -- "<authorization>" <file of refresh tokens> <number of threads>
-- With as many tokens as connections, each chain is always either in flight or waiting.
local pool = {}
bad = 0
local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  auth = args[1]
  local all = {}
  for line in io.lines(args[2]) do
    if line ~= "" then all[#all + 1] = line end
  end
  -- Split the chains between the threads: thread i takes every n-th token.
  local n, i = tonumber(args[3]), index
  for k, token in ipairs(all) do
    if (k - 1) % n == i then pool[#pool + 1] = token end
  end
end

function request()
  local token = table.remove(pool, 1)
  if token == nil then
    -- Every chain of this thread is in flight or broken: ask for something harmless, and
    -- count it as a failure so it does not pass for a rotation.
    bad = bad + 1
    return wrk.format("GET", "/healthz")
  end
  return wrk.format("POST", nil, {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then
    pool[#pool + 1] = token
  elseif status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("bad") or 0)
  end
  io.write(string.format("bad responses: %d\n", total))
end
