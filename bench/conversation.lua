-- wrk script: POST /api/v1/conversations/{id}/messages (non-streaming) with a user JWT.
--   BENCH_TOKEN    the user's access token
--   BENCH_CONVS    conversation ids, separated by spaces
--   BENCH_THREADS  wrk's -t (the ids are split between the threads)
-- Each wrk thread owns its own slice of the conversations and sends to them in turn, so with
-- at least as many conversations as connections two requests seldom share a conversation.
local ids = {}
for id in string.gmatch(os.getenv("BENCH_CONVS") or "", "%S+") do ids[#ids + 1] = id end
local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
local body = '{"content":"hello [sim:tokens=16]","stream":false}'
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or ""),
}

local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

local n = 0
function request()
  local per = math.max(1, math.floor(#ids / threads))
  local idx = ((tid or 0) * per + (n % per)) % #ids + 1
  n = n + 1
  return wrk.format("POST", "/api/v1/conversations/" .. ids[idx] .. "/messages", headers, body)
end
