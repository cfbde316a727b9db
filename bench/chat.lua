-- wrk script: POST a non-streaming OpenAI-style chat completion.
--   BENCH_TOKEN  the bearer credential (a platform key bh-…, a user JWT, or the simulator's key)
--   BENCH_BODY   optional request body (default: qwen-plus, one short question, 16-token answer)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.body = os.getenv("BENCH_BODY") or
  '{"model":"qwen-plus","messages":[{"role":"user","content":"hello [sim:tokens=16]"}],"stream":false}'
