#!/usr/bin/env bash
# Load test of GET /chains/1/stores (the ~800-store list) with the cache flag off, with the local
# tier only, and with Redis. Traffic goes to 127.0.0.1 only; every run is bounded by DURATION.
#
#   examples/web-server/scripts/loadtest.sh            # DURATION=10s CONNECTIONS=4 (2 per core)
#
# Needs wrk and redis-server (Debian: apt-get install -y wrk redis-server).
set -euo pipefail
cd "$(dirname "$0")/../../.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-$(( $(nproc) * 2 ))}
THREADS=${THREADS:-$(nproc)}
PATH_UNDER_TEST=${PATH_UNDER_TEST:-/chains/1/stores}

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

cargo build --release -p web-server -q
server=target/release/web-server

# One seeded database, copied for each run so every run starts equal.
seed_port=$(free_port)
root=$PWD
(cd "$work" && exec env BIND=127.0.0.1:$seed_port ADMIN_TOKEN=x "$root/$server" >/dev/null 2>&1) &
seed_pid=$!
until curl -sf "http://127.0.0.1:$seed_port/healthz" >/dev/null; do sleep 0.2; done
kill "$seed_pid"; wait "$seed_pid" 2>/dev/null || true

run() { # name, extra env...
  local name=$1; shift
  local port dir
  port=$(free_port); dir="$work/$name"; mkdir -p "$dir"
  cp "$work/web-server.sqlite" "$dir/"
  (cd "$dir" && exec env BIND=127.0.0.1:$port ADMIN_TOKEN=x "$@" "$root/$server" >"$dir/log" 2>&1) &
  local pid=$!
  pids+=("$pid")
  until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.2; done
  curl -sf "http://127.0.0.1:$port$PATH_UNDER_TEST" >/dev/null   # first load outside the measurement
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$port$PATH_UNDER_TEST" > "$dir/wrk"
  kill "$pid" 2>/dev/null || true
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$dir/wrk")
  p50=$(awk '$1=="50%" {print $2}' "$dir/wrk")
  p99=$(awk '$1=="99%" {print $2}' "$dir/wrk")
  echo "$name $rps $p50 $p99" >> "$work/results"
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
pids+=($!)
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done

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
