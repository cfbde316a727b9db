-- wrk script: POST /api/v1/auth/login (password check with the hub's bcrypt cost).
--   BENCH_USER, BENCH_PASSWORD  the account
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"' .. os.getenv("BENCH_USER") .. '","password":"' ..
  os.getenv("BENCH_PASSWORD") .. '"}'
