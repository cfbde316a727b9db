#!/usr/bin/env bash
# A first benchmark (the full suite is issue 8's): requests/s and latency of
#   (a) bailian-sim called directly and (b) the hub's /v1/chat/completions in front of it,
# plus /healthz, each with wrk on loopback. Prints one table.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
DUR=${BENCH_SECONDS:-10}
CONN=${BENCH_CONNECTIONS:-32}
work=$(mktemp -d)
cleanup() { kill "${hub_pid:-}" "${sim_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$BUILD/bailian-sim" --listen 127.0.0.1:0 --port-file "$work/sim.port" --log-level error --threads 1 &
sim_pid=$!
for _ in $(seq 100); do [ -s "$work/sim.port" ] && break; sleep 0.1; done
sim_port=$(cat "$work/sim.port")
BAILIAN_HUB_LISTEN=127.0.0.1:0 BAILIAN_HUB_DATA_DIR="$work/hub" BAILIAN_HUB_LOG_LEVEL=info \
  BAILIAN_HUB_BCRYPT_COST=10 DASHSCOPE_API_KEY=sk-bench-00000001 \
  DASHSCOPE_BASE_URL="http://127.0.0.1:$sim_port" "$BUILD/bailian-hub" serve > "$work/hub.log" 2>&1 &
hub_pid=$!
for _ in $(seq 100); do
  port=$(grep -o '"port":[0-9]*' "$work/hub.log" 2>/dev/null | head -1 | cut -d: -f2 || true)
  [ -n "${port:-}" ] && curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
hub="http://127.0.0.1:$port"
curl -fs -XPOST "$hub/api/v1/auth/register" -H 'Content-Type: application/json' \
  -d '{"username":"bench","email":"bench@example.com","password":"Bench-Password-42"}' >/dev/null
export BENCH_TOKEN=$(curl -fs -XPOST "$hub/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"username":"bench","password":"Bench-Password-42"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
export BENCH_TOKEN_SIM=sk-bench-00000001

row() {  # name url [lua]
  local out
  if [ -n "${3:-}" ]; then out=$(wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s "$3" "$2")
  else out=$(wrk -t2 -c"$CONN" -d"${DUR}s" --latency "$2"); fi
  printf "| %-34s | %10s | %8s | %8s |\n" "$1" "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
    "$(echo "$out" | awk '$1=="50%" {print $2}')" "$(echo "$out" | awk '$1=="99%" {print $2}')"
}
sed 's/BENCH_TOKEN")/BENCH_TOKEN_SIM")/; s#"model":"qwen-plus"#"model":"qwen-plus","stream":false#' bench/chat.lua > "$work/sim.lua"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; wrk -t2 -c$CONN -d${DUR}s; $(date -u +%F)"
printf "| %-34s | %10s | %8s | %8s |\n" "target" "req/s" "p50" "p99"
printf "|%s|%s|%s|%s|\n" "------------------------------------" "------------" "----------" "----------"
row "hub GET /healthz" "$hub/healthz"
row "sim chat completions (direct)" "http://127.0.0.1:$sim_port/compatible-mode/v1/chat/completions" "$work/sim.lua"
row "hub /v1/chat/completions (JWT)" "$hub/v1/chat/completions" bench/chat.lua
echo "hub RSS after the run: $(awk '/VmRSS/ {print $2 " " $3}' /proc/$hub_pid/status)"
