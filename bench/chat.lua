-- wrk script: POST an OpenAI-style chat completion with a bearer token from the environment.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.body = '{"model":"qwen-plus","messages":[{"role":"user","content":"hello [sim:tokens=16]"}]}'
