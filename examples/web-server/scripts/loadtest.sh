#!/usr/bin/env bash
# Load test of GET /chains/1/stores (the ~800-store list) with the cache flag off, with the local
# tier only, and with Redis. Traffic goes to 127.0.0.1 only; every run is bounded by DURATION.
#
#   examples/web-server/scripts/loadtest.sh            # DURATION=10s CONNECTIONS=4 (2 per core)
#
# The server binary is taken from cargo's target directory (CARGO_TARGET_DIR or the build.target-dir
# config when set). Every wait is bounded: STARTUP_TIMEOUT seconds (default 120) for a server to
# seed and answer /healthz, 10 s for redis-server; the script fails naming what it waited for.
#
# Needs wrk and redis-server (Debian: apt-get install -y wrk redis-server).
set -euo pipefail
cd "$(dirname "$0")/../../.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-$(( $(nproc) * 2 ))}
THREADS=${THREADS:-$(nproc)}
PATH_UNDER_TEST=${PATH_UNDER_TEST:-/chains/1/stores}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-120}

for tool in wrk redis-server; do
  command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install -y $tool" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_for WHAT SECONDS PID LOG COMMAND...: runs COMMAND every 0.2 s until it succeeds. Fails,
# naming WHAT (and showing the tail of LOG), when SECONDS pass or process PID exits first.
wait_for() {
  local what=$1 seconds=$2 pid=$3 log=$4; shift 4
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "loadtest.sh: $what: the process exited before it was ready" >&2
      [ -f "$log" ] && tail -n 20 "$log" >&2
      exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "loadtest.sh: gave up after ${seconds}s waiting for $what" >&2
      [ -f "$log" ] && tail -n 20 "$log" >&2
      exit 1
    fi
    sleep 0.2
  done
}

healthy() { curl -sf --max-time 2 "http://127.0.0.1:$1/healthz"; }

cargo build --release -p web-server -q
# Where cargo put it: honours CARGO_TARGET_DIR and the build.target-dir config.
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
server="$target_dir/release/web-server"
[ -x "$server" ] || { echo "loadtest.sh: no server binary at $server after the build" >&2; exit 1; }

# One seeded database, copied for each run so every run starts equal.
seed_port=$(free_port)
(cd "$work" && exec env BIND=127.0.0.1:$seed_port ADMIN_TOKEN=x "$server" >"$work/seed.log" 2>&1) &
seed_pid=$!
pids+=("$seed_pid")
wait_for "the seeding server on port $seed_port (/healthz)" "$STARTUP_TIMEOUT" "$seed_pid" "$work/seed.log" healthy "$seed_port"
kill "$seed_pid"; wait "$seed_pid" 2>/dev/null || true

run() { # name, extra env...
  local name=$1; shift
  local port dir
  port=$(free_port); dir="$work/$name"; mkdir -p "$dir"
  cp "$work/web-server.sqlite" "$dir/"
  (cd "$dir" && exec env BIND=127.0.0.1:$port ADMIN_TOKEN=x "$@" "$server" >"$dir/log" 2>&1) &
  local pid=$!
  pids+=("$pid")
  wait_for "the $name server on port $port (/healthz)" "$STARTUP_TIMEOUT" "$pid" "$dir/log" healthy "$port"
  # First load outside the measurement.
  curl -sf --max-time 30 "http://127.0.0.1:$port$PATH_UNDER_TEST" >/dev/null ||
    { echo "loadtest.sh: $name: GET $PATH_UNDER_TEST failed (log: $dir/log)" >&2; exit 1; }
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$port$PATH_UNDER_TEST" > "$dir/wrk"
  kill "$pid" 2>/dev/null || true
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$dir/wrk")
  p50=$(awk '$1=="50%" {print $2}' "$dir/wrk")
  p99=$(awk '$1=="99%" {print $2}' "$dir/wrk")
  echo "$name $rps $p50 $p99" >> "$work/results"
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >"$work/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
wait_for "redis-server on port $redis_port (PING)" 10 "$redis_pid" "$work/redis.log" redis-cli -p "$redis_port" ping

run flag-off CACHE_FLAGS="chains=off"
run local-only
# Redis tier and no local tier: every hit is served by Redis.
run redis REDIS_URL="redis://127.0.0.1:$redis_port" CACHE_LOCAL_BYTES=0
run local+redis REDIS_URL="redis://127.0.0.1:$redis_port"

base=$(awk '$1=="flag-off" {print $2}' "$work/results")
printf "\n%-12s %12s %10s %10s %8s\n" mode "requests/s" p50 p99 "x off"
while read -r name rps p50 p99; do
  printf "%-12s %12s %10s %10s %8.1f\n" "$name" "$rps" "$p50" "$p99" "$(echo "$rps / $base" | bc -l)"
done < "$work/results"
echo "(wrk -t$THREADS -c$CONNECTIONS -d$DURATION $PATH_UNDER_TEST, release build, same machine)"
