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

rotated = 0
lost = 0
local shown = false

function response(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then
    pool[#pool + 1] = token
    rotated = rotated + 1
  elseif status ~= 200 then
    -- A refused rotation ends its chain: say why, once.
    lost = lost + 1
    if not shown then
      shown = true
      io.stderr:write(string.format("refresh refused: %d %s\n", status, body))
    end
  end
end

function done(summary, latency, requests)
  local idle, rotations, chains_lost = 0, 0, 0
  for _, thread in ipairs(threads) do
    idle = idle + (thread:get("bad") or 0)
    rotations = rotations + (thread:get("rotated") or 0)
    chains_lost = chains_lost + (thread:get("lost") or 0)
  end
  io.write(string.format("bad responses: %d\n", idle + chains_lost))
  io.write(string.format("rotations: %d\n", rotations))
  io.write(string.format("lost chains: %d\n", chains_lost))
end
