-- POST /introspect cycling through many distinct tokens: wrk ... -- "<authorization>" <file of tokens>
local tokens = {}
local next_index = 1

function init(args)
  auth = args[1]
  for line in io.lines(args[2]) do
    if line ~= "" then tokens[#tokens + 1] = line end
  end
  -- Threads start at different places in the list.
  next_index = (math.random(#tokens))
end

function request()
  local token = tokens[next_index]
  next_index = next_index % #tokens + 1
  return wrk.format("POST", nil, {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "token=" .. token)
end
