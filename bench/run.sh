#!/usr/bin/env bash
# The benchmark suite (bench/README.md explains every row). Starts bailian-sim, the hub and
# nginx on loopback with fresh data dirs, drives them with wrk and bench-sse-load, and prints
# one table (also written to bench/results/latest.md; raw tool output to latest-raw.log).
#
# Overrides (environment):
#   BENCH_SECONDS=10           duration of each wrk measurement
#   BENCH_WARMUP=2             seconds of wrk warm-up before each throughput measurement
#   BENCH_CONNECTIONS=32       wrk connections of the throughput rows (1, 2)
#   BENCH_THREADS=2            wrk threads
#   BENCH_ROWS="1 2 3 4 5 6 7"   which rows to run
#   BENCH_STREAM_STEPS="1000 5000 10000"   concurrent SSE streams per step (row 3)
#   BENCH_STREAM_SECONDS=60    length of each stream (20 tokens/s)
#   BENCH_STREAM_RAMP=1000     new streams per second
#   BENCH_STREAM_BURST=5       the simulator sends paced tokens in bursts of this many
#                              (bailian-sim --burst-tokens; DashScope sends several per chunk)
#   BENCH_HELD_STREAMS=10000   one more step: this many streams at 1 token/s (memory, descriptors)
#   BENCH_CAPPED_STREAMS=5000  one more step: this many streams against the default overload
#                              cap (limits.max_concurrent_calls): fast refusals past it
#   BENCH_LIMITER_CALLS=2000000   model calls timed through the limiter (row 6)
#   BENCH_DB=sqlite            the hub's store: sqlite, or mysql (a throwaway mariadbd on
#                              loopback with Debian's defaults: InnoDB, durable commits)
#   BENCH_DB_SYNC=full         SQLite's BAILIAN_HUB_DB_SYNC: full (the default: fsync per commit
#                              group) or normal (no fsync per commit; a power cut may lose the
#                              last commits). Reported in the header line; full is not passed
#   BENCH_LOGINS=50            concurrent logins (row 4)
#   BENCH_STARTS=5             warm starts averaged (row 5)
#   BUILD_DIR=build
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(cd "${BUILD_DIR:-build}" 2>/dev/null && pwd) || { echo "bench: no build folder ${BUILD_DIR:-build} (make build)"; exit 1; }
DUR=${BENCH_SECONDS:-10}
WARM=${BENCH_WARMUP:-2}
CONN=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
ROWS=${BENCH_ROWS:-"1 2 3 4 5 6 7"}
STREAM_STEPS=${BENCH_STREAM_STEPS-"1000 5000 10000"}  # empty: no paced step
STREAM_SECONDS=${BENCH_STREAM_SECONDS:-60}
STREAM_RAMP=${BENCH_STREAM_RAMP:-1000}
STREAM_TPS=20
STREAM_BURST=${BENCH_STREAM_BURST:-5}
HELD_STREAMS=${BENCH_HELD_STREAMS:-10000}
DB_KIND=${BENCH_DB:-sqlite}
case "$DB_KIND" in sqlite|mysql) ;; *) echo "bench: BENCH_DB is sqlite or mysql"; exit 2;; esac
DB_SYNC=${BENCH_DB_SYNC:-full}
case "$DB_SYNC" in full|normal) ;; *) echo "bench: BENCH_DB_SYNC is full or normal"; exit 2;; esac
CAPPED_STREAMS=${BENCH_CAPPED_STREAMS:-5000}
# The shipped default of limits.max_concurrent_calls (the example config documents every default).
DEFAULT_CAP=$(awk -F' *= *' '$1 == "max_concurrent_calls" {print $2; exit}' config/bailian-hub.example.toml)
LIMITER_CALLS=${BENCH_LIMITER_CALLS:-2000000}
LOGINS=${BENCH_LOGINS:-50}
STARTS=${BENCH_STARTS:-5}
RESULTS=bench/results
mkdir -p "$RESULTS"
RAW="$RESULTS/latest-raw.log"
: > "$RAW"
T0=$(date +%s)
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
busy_jiffies() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
BUSY0=$(busy_jiffies)

for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/setup.sh installs it)"; exit 1; }
done
[ -x "$BUILD/bailian-hub" ] && [ -x "$BUILD/bailian-sim" ] ||
  { echo "bench: build the hub and the simulator first (make build)"; exit 1; }
[ -f "$BUILD/build.ninja" ] && ninja -C "$BUILD" bench-sse-load bench-limiter >/dev/null
LOAD="$BUILD/bench-sse-load"

# 10,000 streams need ~20,000 descriptors in the hub (one per client, one upstream each).
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)

work=$(mktemp -d)
pids=()
stop_pid() {  # pid: TERM, up to 5 s, then KILL
  local p=$1
  kill -TERM "$p" 2>/dev/null || { wait "$p" 2>/dev/null || true; return 0; }
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_pid "$p"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench: $*" >&2; }
raw() { { echo "==== $1"; cat; echo; } >> "$RAW"; }

free_port() {  # a free loopback port below the ephemeral range
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then echo "$p"; return; fi
  done
  echo "bench: no free port" >&2; return 1
}

now_ns() { date +%s%N; }
# 0 when the process is gone (the caller checks whether it is still alive).
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
per_req_us() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {if (n > 0) printf "%.1f", (b - a) * 1e6 / n; else print 0}'; }
cpu_sum() { local t=0 p; for p in "$@"; do t=$(awk -v a="$t" -v b="$(cpu_s "$p")" 'BEGIN {printf "%.2f", a + b}'); done; echo "$t"; }
alive() { [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
listen_overflows() { nstat -az TcpExtListenOverflows 2>/dev/null | awk '/ListenOverflows/ {print $2; f=1} END {if (!f) print 0}'; }
accept_queue() { ss -Hltn "sport = :$1" 2>/dev/null | awk '{print $2; f=1} END {if (!f) print 0}'; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# ---- processes --------------------------------------------------------------------------------

sim_pid=""; sim_port=""; hub_pid=""; hub_port=""; hub_start_ms=""
start_sim() {  # [extra flags]
  rm -f "$work/sim.port"
  "$BUILD/bailian-sim" --listen 127.0.0.1:0 --port-file "$work/sim.port" --log-level warn \
    --threads "${SIM_THREADS:-1}" "$@" >> "$work/sim.log" 2>&1 &
  sim_pid=$!
  pids+=("$sim_pid")
  for _ in $(seq 100); do [ -s "$work/sim.port" ] && break; sleep 0.05; done
  sim_port=$(cat "$work/sim.port")
}
stop_sim() { if [ -n "$sim_pid" ]; then stop_pid "$sim_pid"; fi; sim_pid=""; }

# BENCH_DB=mysql: one MariaDB server for the run (its own data dir, loopback port and socket),
# a database `hub` and a user for the hub; stopped with everything else.
DB_URL=""
start_mariadb() {
  local dir="$work/mariadb" port
  port=$(free_port)
  mariadb-install-db --no-defaults --auth-root-authentication-method=normal --datadir="$dir/data" \
    --user=root --skip-test-db --skip-name-resolve > "$work/mariadb-install.log" 2>&1 ||
    { cat "$work/mariadb-install.log" >&2; exit 1; }
  mariadbd --no-defaults --datadir="$dir/data" --socket="$dir/sock" --port="$port" \
    --bind-address=127.0.0.1 --user=root --pid-file="$dir/mariadbd.pid" --skip-name-resolve \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=256M > "$work/mariadbd.log" 2>&1 &
  pids+=("$!")
  local i
  for i in $(seq 600); do
    mariadb --no-defaults -S "$dir/sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
    [ "$i" = 600 ] && { tail -20 "$work/mariadbd.log" >&2; exit 1; }
    sleep 0.1
  done
  mariadb --no-defaults -S "$dir/sock" -uroot -e "CREATE DATABASE hub CHARACTER SET utf8mb4;
    CREATE USER 'hub'@'%' IDENTIFIED BY 'Bench-Db-Pw-42'; GRANT ALL ON hub.* TO 'hub'@'%'"
  MARIADB_SOCK="$dir/sock"
  DB_URL="mysql://hub:Bench-Db-Pw-42@127.0.0.1:$port/hub?pool=16"
}
db_query() {  # SQL: the first column of the first row
  if [ "$DB_KIND" = mysql ]; then
    mariadb --no-defaults -S "$MARIADB_SOCK" -uroot -N -B hub -e "$1"
  else
    sqlite3 "$HUB_DATA/bailian-hub.db" "$1"
  fi
}
[ "$DB_KIND" = mysql ] && start_mariadb

HUB_DATA="$work/hub"
# shellcheck disable=SC2120  # the arguments are for ad-hoc runs
start_hub() {  # [VAR=value ...]: extra environment; sets hub_pid, hub_port, hub_start_ms
  hub_port=$(free_port)
  local t0 metrics_port
  metrics_port=$(free_port)
  t0=$(now_ns)
  env BAILIAN_HUB_LISTEN="127.0.0.1:$hub_port" BAILIAN_HUB_DATA_DIR="$HUB_DATA" \
    BAILIAN_HUB_LOG_LEVEL=warn BAILIAN_HUB_WEB_ROOT="$work/no-web" \
    BAILIAN_HUB_MAX_CONNECTIONS=100000 BAILIAN_HUB_SHUTDOWN_GRACE_MS=1000 \
    BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE=100000 BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE=100000 \
    BAILIAN_HUB_CHAT_HISTORY_MESSAGES=20 BAILIAN_HUB_METRICS_LISTEN="127.0.0.1:$metrics_port" \
    BAILIAN_HUB_LIMITS_USER_RPM=1000000000 BAILIAN_HUB_LIMITS_USER_TPM=1000000000 \
    BAILIAN_HUB_LIMITS_USER_DAILY_TOKENS=1000000000 BAILIAN_HUB_LIMITS_USER_MONTHLY_TOKENS=1000000000 \
    BAILIAN_HUB_LIMITS_USER_DAILY_COST_CNY=1000000000 BAILIAN_HUB_LIMITS_USER_MONTHLY_COST_CNY=1000000000 \
    BAILIAN_HUB_MAX_CONCURRENT_CALLS=1000000000 BAILIAN_HUB_SECURITY_SPEND_KEY_SUSPEND_S=0 \
    DASHSCOPE_API_KEY=sk-bench-00000001 DASHSCOPE_BASE_URL="http://127.0.0.1:$sim_port" \
    ${DB_URL:+BAILIAN_HUB_DATABASE_URL="$DB_URL"} \
    $([ "$DB_SYNC" = full ] || echo "BAILIAN_HUB_DB_SYNC=$DB_SYNC") \
    "$@" "$BUILD/bailian-hub" serve >> "$work/hub.log" 2>&1 &
  hub_pid=$!
  pids+=("$hub_pid")
  if [ -n "${HUB_TLS_DIR:-}" ]; then  # HTTPS: wait for a TLS answer
    curl -sfk --retry 300 --retry-delay 0 --retry-max-time 30 --retry-connrefused -o /dev/null \
      "https://127.0.0.1:$hub_port/healthz" || { tail -5 "$work/hub.log" >&2; exit 1; }
  else
    "$LOAD" --wait-http "127.0.0.1:$hub_port/healthz" --timeout-s 30 ||
      { tail -5 "$work/hub.log" >&2; exit 1; }
  fi
  hub_start_ms=$(( ($(now_ns) - t0) / 1000000 ))
}
stop_hub() { if [ -n "$hub_pid" ]; then stop_pid "$hub_pid"; fi; hub_pid=""; }

nginx_pid=""; nginx_port=""
start_nginx() {  # a pure keep-alive reverse proxy in front of the simulator
  local d="$work/nginx"
  mkdir -p "$d"
  nginx_port=$(free_port)
  local user_line=""
  [ "$(id -u)" -eq 0 ] && user_line="user root;"
  cat > "$d/nginx.conf" <<EOF
$user_line
worker_processes auto;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $d/client_body;
  proxy_temp_path $d/proxy;
  fastcgi_temp_path $d/fastcgi;
  uwsgi_temp_path $d/uwsgi;
  scgi_temp_path $d/scgi;
  upstream sim { server 127.0.0.1:$sim_port; keepalive 64; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://sim;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" &
  nginx_pid=$!
  pids+=("$nginx_pid")
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$nginx_port/_sim/health" && return 0
    sleep 0.05
  done
  echo "bench: nginx did not start"; cat "$d/error.log"; exit 1
}
stop_nginx() { if [ -n "$nginx_pid" ]; then stop_pid "$nginx_pid"; fi; nginx_pid=""; }

# ---- wrk --------------------------------------------------------------------------------------

# wrk_run NAME ARGS...: runs wrk, keeps its output, sets W_RPS W_P50 W_P99 (ms) W_ERR
to_ms() {  # wrk latency (e.g. 812.00us, 1.28ms, 1.02s) -> ms
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
    printf "%.2f", n }'
}
wrk_run() {
  local name=$1; shift
  local out
  out=$(wrk --latency "$@" 2>&1) || true
  printf '%s\n' "$out" | raw "$name: wrk $*"
  W_RPS=$(printf '%s\n' "$out" | awk '/^Requests\/sec/ {printf "%.0f", $2}')
  W_P50=$(to_ms "$(printf '%s\n' "$out" | awk '$1=="50%" {print $2}')")
  W_P99=$(to_ms "$(printf '%s\n' "$out" | awk '$1=="99%" {print $2}')")
  W_REQ=$(printf '%s\n' "$out" | awk '/requests in/ {print $1}')
  local non2xx sock
  non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $NF}')
  sock=$(printf '%s\n' "$out" | awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}')
  W_ERR=$(( ${non2xx:-0} + ${sock:-0} ))
  # What the errors were, when there were any (wrk's own words: non-2xx answers, and socket
  # errors by kind).
  W_ERRKIND=""
  if [ "$W_ERR" -gt 0 ]; then
    W_ERRKIND=$(printf '%s\n' "$out" | awk -v n="${non2xx:-0}" '
      /Socket errors/ {gsub(",", ""); s = sprintf(", connect %s, read %s, write %s, timeout %s", $4, $6, $8, $10)}
      END {printf "non-2xx %d%s", n, s}')
  fi
}

# ---- the table --------------------------------------------------------------------------------

TABLE=()
row() {  # measurement value reference target met
  TABLE+=("$(printf '| %s | %s | %s | %s | %s |' "$1" "$2" "$3" "$4" "$5")")
}
met() { if awk "BEGIN {exit !($1)}"; then echo met; else echo "**missed**"; fi; }
fmt_lat() { echo "$1 req/s, p50 $2 ms, p99 $3 ms"; }

want() { case " $ROWS " in *" $1 "*) return 0;; *) return 1;; esac; }

# ---- row 5 first: start-up and idle, on a fresh data dir -------------------------------------

start_sim
if want 5; then
  log "row 5: start-up time and idle RSS"
  start_hub  # cold: empty data dir (migrations, master key, JWT signing key)
  cold_ms=$hub_start_ms
  stop_hub
  total=0; rss_sum=0
  for _ in $(seq "$STARTS"); do
    start_hub
    total=$((total + hub_start_ms))
    sleep 1
    rss_sum=$((rss_sum + $(rss_kb "$hub_pid")))
    stop_hub
  done
  warm_ms=$((total / STARTS)); idle_kb=$((rss_sum / STARTS))
  # Reference: the simulator (same HTTP server code, no database, no crypto).
  sim_ref_port=$(free_port)
  t0=$(now_ns)
  "$BUILD/bailian-sim" --listen "127.0.0.1:$sim_ref_port" --log-level warn --threads 2 >/dev/null 2>&1 &
  ref_pid=$!; pids+=("$ref_pid")
  "$LOAD" --wait-http "127.0.0.1:$sim_ref_port/_sim/health" --timeout-s 10
  sim_start_ms=$(( ($(now_ns) - t0) / 1000000 ))
  sleep 1
  sim_idle_kb=$(rss_kb "$ref_pid")
  stop_pid "$ref_pid"
  R5a=("5 idle: hub RSS after start, no traffic (avg of $STARTS)" "$(mb "$idle_kb") MB"
       "bailian-sim idle: $(mb "$sim_idle_kb") MB" "≤ 30 MB" "$(met "$idle_kb <= 30*1024")")
  R5b=("5 start-up: exec → /healthz 200, warm (avg of $STARTS)" "$warm_ms ms"
       "cold start (empty data dir): $cold_ms ms; bailian-sim: $sim_start_ms ms" "≤ 60 ms" "$(met "$warm_ms <= 60")")
fi

# ---- set-up: a user, a JWT, a platform key ---------------------------------------------------

start_hub
hub="http://127.0.0.1:$hub_port"
BENCH_USER=bench BENCH_PASSWORD=Bench-Password-42
curl -fs -XPOST "$hub/api/v1/auth/register" -H 'Content-Type: application/json' \
  -d "{\"username\":\"$BENCH_USER\",\"email\":\"bench@example.com\",\"password\":\"$BENCH_PASSWORD\"}" >/dev/null
login() {
  curl -fs -XPOST "$hub/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$BENCH_USER\",\"password\":\"$BENCH_PASSWORD\"}" |
    sed 's/.*"access_token":"\([^"]*\)".*/\1/'
}
JWT=$(login)
API_KEY=$(curl -fs -XPOST "$hub/api/v1/api-keys" -H "Authorization: Bearer $JWT" \
  -H 'Content-Type: application/json' -d '{"name":"bench"}' | sed 's/.*"key":"\([^"]*\)".*/\1/')
case "$API_KEY" in bh-*) ;; *) echo "bench: could not create a platform key"; exit 1;; esac
export BENCH_THREADS=$THREADS

# ---- row 1: proxy overhead -------------------------------------------------------------------

if want 1; then
  log "row 1: proxy overhead (sim direct, nginx, hub), ${DUR}s each at -c$CONN and -c1"
  start_nginx
  sim_url="http://127.0.0.1:$sim_port/compatible-mode/v1/chat/completions"
  ngx_url="http://127.0.0.1:$nginx_port/compatible-mode/v1/chat/completions"
  hub_url="$hub/v1/chat/completions"
  check=$(curl -s -o /dev/null -w '%{http_code}' "$hub_url" -H "Authorization: Bearer $API_KEY" \
    -H 'Content-Type: application/json' \
    -d '{"model":"qwen-plus","messages":[{"role":"user","content":"hi"}],"stream":false}')
  [ "$check" = 200 ] || { echo "bench: hub chat completion answered $check"; exit 1; }
  for c in "$CONN" 1; do
    t=$THREADS; [ "$c" -lt "$t" ] && t=$c
    for target in sim nginx hub; do
      case $target in
        sim) url=$sim_url; tok=sk-bench-00000001;;
        nginx) url=$ngx_url; tok=sk-bench-00000001;;
        hub) url=$hub_url; tok=$API_KEY;;
      esac
      BENCH_TOKEN=$tok wrk_run "warm-up $target c$c" -t"$t" -c"$c" -d"${WARM}s" -s bench/chat.lua "$url"
      # CPU per request of the process(es) under test alone: the hub, nginx's workers, the sim.
      case $target in
        sim) cpids=("$sim_pid");; nginx) mapfile -t cpids < <(pgrep -P "$nginx_pid");; hub) cpids=("$hub_pid");;
      esac
      c0=$(cpu_sum "${cpids[@]}")
      BENCH_TOKEN=$tok wrk_run "row 1 $target c$c" -t"$t" -c"$c" -d"${DUR}s" -s bench/chat.lua "$url"
      us=$(per_req_us "$c0" "$(cpu_sum "${cpids[@]}")" "${W_REQ:-0}")
      eval "R1_${target}_${c}=(\"$W_RPS\" \"$W_P50\" \"$W_P99\" \"$W_ERR\" \"$us\")"
      if [ "$target" = hub ] && [ "$W_ERR" -gt 0 ]; then
        eval "R1_hub_errkind_${c}=\"$W_ERRKIND\""
        { echo "errors: $W_ERRKIND"; echo "hub log (warn and above), last lines:"
          tail -n 40 "$work/hub.log"; } | raw "row 1 hub c$c: failed requests"
      fi
    done
  done
  stop_nginx
fi

# ---- row 2: conversation chat ----------------------------------------------------------------

if want 2; then
  NCONV=$((CONN * 2))
  log "row 2: conversation chat; seeding $NCONV conversations with 10 turns each"
  convs=()
  for _ in $(seq "$NCONV"); do
    convs+=("$(curl -fs -XPOST "$hub/api/v1/conversations" -H "Authorization: Bearer $JWT" \
      -H 'Content-Type: application/json' -d '{"model":"qwen-plus"}' |
      sed 's/.*"id":"\([^"]*\)".*/\1/')")
  done
  seed() {  # 10 turns, one after the other
    for _ in $(seq 10); do
      curl -fs -o /dev/null -XPOST "$hub/api/v1/conversations/$1/messages" \
        -H "Authorization: Bearer $JWT" -H 'Content-Type: application/json' \
        -d '{"content":"hello [sim:tokens=16]","stream":false}' || return 1
    done
  }
  seeders=()
  for id in "${convs[@]}"; do seed "$id" & seeders+=($!); done
  for p in "${seeders[@]}"; do wait "$p" || { echo "bench: seeding failed"; exit 1; }; done
  count=$(curl -fs "$hub/api/v1/conversations/${convs[0]}" -H "Authorization: Bearer $JWT" |
    sed 's/.*"message_count":\([0-9]*\).*/\1/')
  [ "$count" = 20 ] || { echo "bench: conversation has $count messages, expected 20"; exit 1; }
  rows_now() {  # messages and api_calls rows of the chat turns
    db_query "select (select count(*) from messages), (select count(*) from api_calls where endpoint = 'chat')" | tr '\t|' '  '
  }
  export BENCH_CONVS="${convs[*]}"
  # Reference: the simulator answering the same upstream request directly (streamed, 21
  # messages: 20 of history and the question, as the hub sends it).
  answer="Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore."
  msgs=""
  for _ in $(seq 10); do
    msgs+="{\"role\":\"user\",\"content\":\"hello [sim:tokens=16]\"},{\"role\":\"assistant\",\"content\":\"$answer\"},"
  done
  ref_body="{\"model\":\"qwen-plus\",\"messages\":[${msgs}{\"role\":\"user\",\"content\":\"hello [sim:tokens=16]\"}],\"stream\":true,\"stream_options\":{\"include_usage\":true}}"
  # CPU per request of each process alone (/proc/PID/stat), as in row 1: the sim answering
  # directly, then the hub per turn (the sim's share of a turn is counted apart).
  c0=$(cpu_s "$sim_pid")
  BENCH_TOKEN=sk-bench-00000001 BENCH_BODY=$ref_body wrk_run "row 2 reference: sim streamed" \
    -t"$THREADS" -c"$CONN" -d"${DUR}s" -s bench/chat.lua \
    "http://127.0.0.1:$sim_port/compatible-mode/v1/chat/completions"
  R2_ref=("$W_RPS" "$W_P50" "$W_P99" "$W_ERR" "$(per_req_us "$c0" "$(cpu_s "$sim_pid")" "${W_REQ:-0}")")
  BENCH_TOKEN=$JWT wrk_run "warm-up hub conversation" -t"$THREADS" -c"$CONN" -d"${WARM}s" \
    -s bench/conversation.lua "$hub/"
  sleep 1  # turns the warm-up left in flight finish
  read -r msgs0 calls0 <<< "$(rows_now)"
  c0=$(cpu_s "$hub_pid"); s0=$(cpu_s "$sim_pid")
  BENCH_TOKEN=$JWT wrk_run "row 2 hub conversation" -t"$THREADS" -c"$CONN" -d"${DUR}s" \
    -s bench/conversation.lua "$hub/"
  R2_hub=("$W_RPS" "$W_P50" "$W_P99" "$W_ERR" "$W_REQ" \
    "$(per_req_us "$c0" "$(cpu_s "$hub_pid")" "${W_REQ:-0}")" \
    "$(per_req_us "$s0" "$(cpu_s "$sim_pid")" "${W_REQ:-0}")")
  # Every turn wrote its question, its answer and its api_calls row: count them.
  sleep 1  # turns wrk left in flight finish
  read -r msgs1 calls1 <<< "$(rows_now)"
  R2_rows="messages +$((msgs1 - msgs0)), api_calls +$((calls1 - calls0)) for ${W_REQ} answered turns"
  echo "$R2_rows" | raw "row 2 rows written"
fi

# ---- row 4: isolation ------------------------------------------------------------------------

if want 4; then
  log "row 4: /healthz p99 alone and during $LOGINS concurrent logins"
  wrk_run "row 4 healthz alone" -t1 -c2 -d"${DUR}s" "$hub/healthz"
  R4_alone=("$W_RPS" "$W_P50" "$W_P99" "$W_ERR")
  export BENCH_USER BENCH_PASSWORD
  login_out="$work/logins.txt"
  wrk --latency -t1 -c"$LOGINS" -d"$((DUR + 3))s" --timeout 30s -s bench/login.lua \
    "$hub/api/v1/auth/login" > "$login_out" 2>&1 &
  login_pid=$!; pids+=("$login_pid")
  sleep 2  # every login connection has its bcrypt running
  wrk_run "row 4 healthz during logins" -t1 -c2 -d"${DUR}s" "$hub/healthz"
  R4_busy=("$W_RPS" "$W_P50" "$W_P99" "$W_ERR")
  wait "$login_pid" || true
  raw "row 4 logins: wrk -c$LOGINS" < "$login_out"
  logins_rps=$(awk '/^Requests\/sec/ {printf "%.1f", $2}' "$login_out")
  logins_p50=$(to_ms "$(awk '$1=="50%" {print $2}' "$login_out")")
  logins_non2xx=$(awk '/Non-2xx/ {print $NF}' "$login_out")
fi

# ---- row 3: streams --------------------------------------------------------------------------

if want 3; then
  stop_hub
  stop_sim
  # Two descriptors per stream in the hub (client + upstream), a few dozen of its own.
  max_streams=$(( (NOFILE - 200) / 2 ))
  R3=()
  steps=$STREAM_STEPS
  [ "${HELD_STREAMS:-0}" -gt 0 ] && steps="$steps held:$HELD_STREAMS"
  [ "${CAPPED_STREAMS:-0}" -gt 0 ] && steps="$steps capped:$CAPPED_STREAMS"
  for step in $steps; do
    tps=$STREAM_TPS; n=$step
    burst=$STREAM_BURST
    cap=()  # the other steps measure capacity: no overload cap
    case $step in
      held:*) tps=1; burst=1; n=${step#held:};;
      capped:*) n=${step#capped:}; cap=(BAILIAN_HUB_MAX_CONCURRENT_CALLS="$DEFAULT_CAP")
                note=" against the default cap of $DEFAULT_CAP concurrent calls";;
    esac
    tokens=$((tps * STREAM_SECONDS))
    body="{\"model\":\"qwen-plus\",\"messages\":[{\"role\":\"user\",\"content\":\"[sim:tps=$tps][sim:tokens=$tokens] tell me a story\"}],\"stream\":true}"
    eff=$n; [ ${#cap[@]} -gt 0 ] || note=""
    if [ "$n" -gt "$max_streams" ]; then
      eff=$max_streams; note=" (asked $n; RLIMIT_NOFILE $NOFILE allows $max_streams)"
    fi
    log "row 3: $eff streams of ${STREAM_SECONDS}s at $tps token/s, ramp ${STREAM_RAMP}/s$note"
    SIM_THREADS=2 start_sim --burst-tokens "$burst"
    : > "$work/hub.log"
    start_hub "${cap[@]}"
    hub="http://127.0.0.1:$hub_port"
    sleep 1
    idle=$(rss_kb "$hub_pid"); cpu0=$(cpu_s "$hub_pid"); scpu0=$(cpu_s "$sim_pid")
    peak=$idle; speak=0; hq=0; sq=0; ovf0=$(listen_overflows)
    # A stream that has not ended within twice its length counts as an error (timeout).
    deadline=$((STREAM_SECONDS * 2 + eff / STREAM_RAMP))
    "$LOAD" --port "$hub_port" --path /v1/chat/completions \
      --header "Authorization: Bearer $API_KEY" --body "$body" --streams "$eff" \
      --ramp "$STREAM_RAMP" --timeout-s "$deadline" --progress-s 15 \
      > "$work/streams.txt" 2> "$work/streams.err" &
    load_pid=$!; pids+=("$load_pid")
    died=""
    while kill -0 "$load_pid" 2>/dev/null; do
      if [ -z "$died" ] && ! alive "$hub_pid"; then
        wait "$hub_pid" && st=0 || st=$?
        died="hub exited (status $st) during the step"; log "$died"
      fi
      if [ -z "$died" ] && ! alive "$sim_pid"; then
        wait "$sim_pid" && st=0 || st=$?
        died="bailian-sim exited (status $st) during the step"; log "$died"
      fi
      r=$(rss_kb "$hub_pid"); [ "$r" -gt "$peak" ] && peak=$r
      s=$(rss_kb "$sim_pid"); [ "$s" -gt "$speak" ] && speak=$s
      q=$(accept_queue "$hub_port"); [ "$q" -gt "$hq" ] && hq=$q
      q=$(accept_queue "$sim_port"); [ "$q" -gt "$sq" ] && sq=$q
      sleep 1
    done
    wait "$load_pid" || true
    cpu1=$(cpu_s "$hub_pid"); scpu1=$(cpu_s "$sim_pid"); hwm=$(hwm_kb "$hub_pid")
    [ "$hwm" -gt "$peak" ] && peak=$hwm
    ovf=$(( $(listen_overflows) - ovf0 ))
    { cat "$work/streams.err" "$work/streams.txt"
      echo "accept queue, longest seen: hub $hq, sim $sq; kernel listen-queue overflows: $ovf"
      [ -n "$died" ] && echo "$died"
      echo "hub log, last lines:"; tail -n 5 "$work/hub.log"
      echo "hub warnings/errors in its log:";
      grep -o '"msg":"[a-z_]*"' "$work/hub.log" | sort | uniq -c; } | raw "row 3 streams n=$eff tps=$tps"
    g() { awk -F= -v k="$1" '$1==k {print $2}' "$work/streams.txt"; }
    completed=$(g completed); errors=$(g errors)
    per_stream=$(awk -v p="$peak" -v i="$idle" -v n="$eff" 'BEGIN {printf "%.1f", (p - i) / n}')
    hub_cpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.1f", b - a}')
    sim_cpu=$(awk -v a="$scpu0" -v b="$scpu1" 'BEGIN {printf "%.1f", b - a}')
    [ -n "$died" ] && note="$note; $died"
    load_cpu=$(awk -v a="$(g cpu_user_s)" -v b="$(g cpu_sys_s)" 'BEGIN {printf "%.1f", a + b}')
    R3+=("$eff|$completed|$errors|$(mb "$peak")|$hub_cpu|$per_stream|$(g ttfb_p50_ms)|$(g ttfb_p99_ms)|$(g duration_p50_s)|$(mb "$speak")|$sim_cpu|$note|$(g wall_s)|$(g err_timeout)|$load_cpu|$tps|$ovf|$burst|$(g refused)|$(g refused_p99_ms)|$(g duration_p99_s)|${#cap[@]}|$(g events)")
    stop_hub
    stop_sim
  done
fi

# ---- row 7: HTTPS ------------------------------------------------------------------------------

if want 7; then
  log "row 7: the hub over HTTPS (keep-alive chat, and new connections per second)"
  stop_hub; stop_sim
  start_sim
  HUB_TLS_DIR="$work/tls"
  "$BUILD/bailian-hub" tls self-signed --out "$HUB_TLS_DIR" > /dev/null
  start_hub BAILIAN_HUB_TLS_CERT="$HUB_TLS_DIR/cert.pem" BAILIAN_HUB_TLS_KEY="$HUB_TLS_DIR/key.pem"
  tls_hub="https://127.0.0.1:$hub_port"
  BENCH_TOKEN=$API_KEY wrk_run "warm-up tls" -t"$THREADS" -c"$CONN" -d"${WARM}s" -s bench/chat.lua "$tls_hub/v1/chat/completions"
  BENCH_TOKEN=$API_KEY wrk_run "row 7 tls keep-alive c$CONN" -t"$THREADS" -c"$CONN" -d"${DUR}s" -s bench/chat.lua "$tls_hub/v1/chat/completions"
  R7_keep=("$W_RPS" "$W_P50" "$W_P99" "$W_ERR")
  # Connection: close: every request is a new TCP connection and a full TLS handshake.
  wrk_run "row 7 tls handshakes" -t"$THREADS" -c"$CONN" -d"${DUR}s" -H "Connection: close" "$tls_hub/healthz"
  R7_hs=("$W_RPS" "$W_P50" "$W_P99" "$W_ERR")
  stop_hub
  HUB_TLS_DIR=""
  start_hub
  wrk_run "row 7 plain new connections" -t"$THREADS" -c"$CONN" -d"${DUR}s" -H "Connection: close" "http://127.0.0.1:$hub_port/healthz"
  R7_plain=("$W_RPS" "$W_P50" "$W_P99" "$W_ERR")
  stop_hub; stop_sim
fi

# ---- row 6: the limiter's cost --------------------------------------------------------------

declare -A R6=()
if want 6; then
  log "row 6: limiter cost per model call ($LIMITER_CALLS calls)"
  "$BUILD/bench-limiter" "$LIMITER_CALLS" > "$work/limiter.txt"
  raw "row 6 bench-limiter" < "$work/limiter.txt"
  while read -r line; do
    users=$(sed -n 's/.*users=\([0-9]*\).*/\1/p' <<< "$line")
    th=$(sed -n 's/.*threads=\([0-9]*\).*/\1/p' <<< "$line")
    ns=$(sed -n 's/.*ns_per_call=\([0-9]*\).*/\1/p' <<< "$line")
    if [ "$th" = 1 ]; then R6[${users}_1]=$ns; else R6[${users}_n]=$ns; R6_THREADS=$th; fi
  done < "$work/limiter.txt"
fi

# ---- the table --------------------------------------------------------------------------------

if want 1; then
  # shellcheck disable=SC2154  # s, n and h are set by the eval
  for c in "$CONN" 1; do
    eval "s=(\"\${R1_sim_${c}[@]}\"); n=(\"\${R1_nginx_${c}[@]}\"); h=(\"\${R1_hub_${c}[@]}\")"
    row "1a sim direct, -c$c" "$(fmt_lat "${s[0]}" "${s[1]}" "${s[2]}")" "—" "—" "—"
    row "1b nginx → sim, -c$c" "$(fmt_lat "${n[0]}" "${n[1]}" "${n[2]}")" "—" "—" "—"
    eval "hk=\"\${R1_hub_errkind_${c}:-}\""
    row "1c hub → sim (platform key), -c$c" "$(fmt_lat "${h[0]}" "${h[1]}" "${h[2]}")" \
      "errors: hub ${h[3]}${hk:+ ($hk; hub log in the raw output)}, nginx ${n[3]}, sim ${s[3]}" "—" "—"
    ha50=$(awk -v a="${h[1]}" -v b="${s[1]}" 'BEGIN {printf "%+.2f", a - b}')
    ha99=$(awk -v a="${h[2]}" -v b="${s[2]}" 'BEGIN {printf "%+.2f", a - b}')
    na50=$(awk -v a="${n[1]}" -v b="${s[1]}" 'BEGIN {printf "%+.2f", a - b}')
    na99=$(awk -v a="${n[2]}" -v b="${s[2]}" 'BEGIN {printf "%+.2f", a - b}')
    r50=$(awk -v a="$ha50" -v b="$na50" 'BEGIN {if (b > 0) printf "%.1f×", a / b; else print "n/a"}')
    r99=$(awk -v a="$ha99" -v b="$na99" 'BEGIN {if (b > 0) printf "%.1f×", a / b; else print "n/a"}')
    if [ "$c" = 1 ]; then
      row "1 hub added latency, -c$c" "p50 $ha50 ms, p99 $ha99 ms" \
        "nginx added p50 $na50 ms, p99 $na99 ms; hub/nginx: p50 $r50, p99 $r99" \
        "hub's added p50 ≤ 3× nginx's" "$(met "$na50 > 0 && $ha50 <= 3 * $na50")"
    else
      rr=$(awk -v a="${h[0]}" -v b="${n[0]}" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print 0}')
      row "1 hub added latency, -c$c" "p50 $ha50 ms, p99 $ha99 ms; hub/nginx req/s: $rr" \
        "nginx added p50 $na50 ms, p99 $na99 ms; hub/nginx: p50 $r50, p99 $r99" \
        "hub req/s ≥ 0.6 × nginx's" "$(met "$rr >= 0.6")"
      cr=$(awk -v a="${h[4]}" -v b="${n[4]}" 'BEGIN {if (b > 0) printf "%.1f", a / b; else print 0}')
      row "1 CPU per request, -c$c (the process alone: hub; nginx's workers; sim)" \
        "hub ${h[4]} µs" "nginx ${n[4]} µs (hub/nginx: ${cr}×); sim ${s[4]} µs" \
        "hub ≤ 4× nginx's" "$(met "$cr > 0 && $cr <= 4")"
    fi
  done
fi
if want 2; then
  row "2 conversation chat (JWT, 20-message history, stored), -c$CONN" \
    "$(fmt_lat "${R2_hub[0]}" "${R2_hub[1]}" "${R2_hub[2]}"), errors ${R2_hub[3]}; $R2_rows; CPU per turn: hub ${R2_hub[5]} µs, sim ${R2_hub[6]} µs" \
    "sim alone, same upstream request (streamed, 21 messages): ${R2_ref[0]} req/s, p99 ${R2_ref[2]} ms, CPU ${R2_ref[4]} µs per request" \
    "≥ 0.5 × sim alone's req/s (here: $(awk -v a="${R2_hub[0]}" -v b="${R2_ref[0]}" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print 0}')×)" \
    "$(met "${R2_hub[0]} >= 0.5 * ${R2_ref[0]}")"
fi
if want 3; then
  for r in "${R3[@]}"; do
    IFS='|' read -r n completed errors peak cpu per ttfb50 ttfb99 d50 speak scpu note wall tmo lcpu tps ovf burst refused ref99 d99 capped events <<< "$r"
    # Hub CPU per relayed chunk: its CPU over the step ÷ the SSE events the clients received.
    per_chunk=$(awk -v c="$cpu" -v e="${events:-0}" 'BEGIN {if (e > 0) printf "%.1f", c * 1e6 / e; else print "n/a"}')
    if [ "$capped" -gt 0 ]; then
      # Past the cap a stream is refused at once (503 + Retry-After); those admitted run their
      # full length as if the others were not there.
      row "3 $n SSE streams × ${STREAM_SECONDS}s ($tps token/s)$note" \
        "admitted and completed $completed, refused $refused (refusal p99 $ref99 ms), errors $errors; admitted stream length p50 ${d50}s, p99 ${d99}s; TTFB p99 $ttfb99 ms; hub peak RSS $peak MB, CPU ${cpu}s; listen-queue overflows $ovf" \
        "stream length asked: ${STREAM_SECONDS}s" \
        "refused at once (p99 no later than an admitted stream's first token, p99), every admitted stream on time (p99 ≤ 1.1 × length), 0 errors" \
        "refusals $(met "$refused > 0 && $ref99 <= $ttfb99"), on time $(met "$d99 <= $STREAM_SECONDS * 1.1"), errors $(met "$errors == 0")"
      continue
    fi
    row "3 $n SSE streams × ${STREAM_SECONDS}s ($tps token/s in bursts of $burst), ramp ${STREAM_RAMP}/s$note" \
      "completed $completed, errors $errors ($tmo not done within 2× their length; listen-queue overflows $ovf); hub peak RSS $peak MB ($per KB/stream), CPU ${cpu}s in ${wall}s, $per_chunk µs per relayed chunk ($events chunks); TTFB p50 $ttfb50 ms, p99 $ttfb99 ms; stream length p50 ${d50}s" \
      "bailian-sim serving the same streams: peak RSS $speak MB, CPU ${scpu}s; load generator CPU ${lcpu}s" \
      "$(if [ "$tps" = 1 ]; then echo "0 errors, ≤ 25 KB per held stream"; else echo "0 errors, ≤ 20 µs of hub CPU per chunk"; fi)" \
      "errors $(met "$errors == 0"), $(if [ "$tps" = 1 ]; then echo "memory $(met "$per <= 25")"; else echo "CPU $(met "${events:-0} > 0 && $cpu * 1e6 / (${events:-0} + 0.000001) <= 20")"; fi)$([ -n "$note" ] && echo ' (at the descriptor limit)' || true)"
  done
fi
if want 4; then
  row "4 /healthz during $LOGINS concurrent logins (bcrypt default cost)" \
    "p99 ${R4_busy[2]} ms (p50 ${R4_busy[1]} ms); logins ${logins_rps}/s, login p50 ${logins_p50} ms, non-2xx ${logins_non2xx:-0}" \
    "/healthz alone: p99 ${R4_alone[2]} ms (p50 ${R4_alone[1]} ms)" "p99 ≤ 5 ms" "$(met "${R4_busy[2]} <= 5")"
fi
if want 5; then
  row "${R5a[@]}"
  row "${R5b[@]}"
fi
if want 7; then
  ref7="—"
  if want 1; then
    eval "h=(\"\${R1_hub_${CONN}[@]}\")"
    ref7="plain HTTP, same requests (row 1c): $(fmt_lat "${h[0]}" "${h[1]}" "${h[2]}")"
  fi
  row "7a hub over HTTPS (TLS 1.3, keep-alive, platform key), -c$CONN" \
    "$(fmt_lat "${R7_keep[0]}" "${R7_keep[1]}" "${R7_keep[2]}"), errors ${R7_keep[3]}" "$ref7" "—" "—"
  row "7b new HTTPS connections per second (full handshake each), -c$CONN" \
    "${R7_hs[0]}/s, p50 ${R7_hs[1]} ms, p99 ${R7_hs[2]} ms, errors ${R7_hs[3]}" \
    "plain HTTP, new connection each: ${R7_plain[0]}/s, p99 ${R7_plain[2]} ms" "—" "—"
fi
if want 6; then
  row "6 limiter cost per model call (admit: budgets, cap, request and token buckets; x-ratelimit headers; release)" \
    "1 thread: ${R6[100_1]} ns with 100 callers, ${R6[10000_1]} ns with 10,000; $R6_THREADS threads at once: ${R6[100_n]} ns, ${R6[10000_n]} ns (CPU time per call)" \
    "—" "< 1 µs (1 thread, callers in cache)" "$(met "${R6[100_1]} < 1000")"
fi

stop_hub; stop_sim; stop_nginx
elapsed=$(( $(date +%s) - T0 ))
# CPU the rest of the machine used meanwhile (everything but this script's own processes).
times > "$work/times.txt"  # in this shell: a $(times) subshell has no children of its own
ours=$(awk 'NR == 2 {
  split($1, a, /[ms]/); split($2, b, /[ms]/); printf "%.0f", a[1] * 60 + a[2] + b[1] * 60 + b[2] }' "$work/times.txt")
other=$(awk -v b0="$BUSY0" -v b1="$(busy_jiffies)" -v hz="$(getconf CLK_TCK)" -v o="$ours" \
  'BEGIN {x = (b1 - b0) / hz - o; if (x < 0) x = 0; printf "%.0f", x}')
other_pct=$(awk -v x="$other" -v t="$elapsed" -v c="$(nproc)" 'BEGIN {printf "%.0f", 100 * x / (t * c)}')
{
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo);" \
    "$(date -u '+%F %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?');" \
    "load average at start $LOAD_AT_START; store: $DB_KIND (sync $DB_SYNC)"
  echo "wrk -t$THREADS, ${DUR}s per measurement (after ${WARM}s warm-up); hub log level warn; RLIMIT_NOFILE $NOFILE; suite took ${elapsed}s;" \
    "other processes on the machine used ${other} CPU-s meanwhile (${other_pct}% of its $(nproc) cores)"
  echo
  echo "| measurement | value | reference (same run) | target | met? |"
  echo "|---|---|---|---|---|"
  for r in "${TABLE[@]}"; do echo "$r"; done
} > "$RESULTS/latest.md"
cat "$RESULTS/latest.md"
