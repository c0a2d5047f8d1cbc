#!/usr/bin/env bash
# Runs every bench of issue 8 with short measurement times (about 8 minutes on 2 cores), then
# prints each case's median time, the non-time figures (FIGURE lines) and the ratios quoted in
# benches/README.md. Exits non-zero if a bench fails, hangs (per-bench timeout) or prints no
# result. Needs redis-server and redis-benchmark on PATH (Debian: apt-get install redis-server).
#
#   benches/run.sh                 # all benches
#   benches/run.sh codec l1_hit    # some of them
#
# Environment: CARGO_TARGET_DIR (default /work/target-bench), BENCH_ARGS (criterion options,
# default "--warm-up-time 1 --measurement-time 2"), BENCH_TIMEOUT (seconds per bench, 300).
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-bench}"
read -r -a args <<<"${BENCH_ARGS:---warm-up-time 1 --measurement-time 2}"
limit="${BENCH_TIMEOUT:-300}"
logs="$CARGO_TARGET_DIR/bench-logs"
mkdir -p "$logs"

benches=("$@")
if [ ${#benches[@]} -eq 0 ]; then
    benches=(l1_hit l0_hot_set contention l2_hit fill stampede codec overhead)
fi

for tool in redis-server redis-benchmark; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool not found on PATH" >&2; exit 1; }
done

echo "== machine"
echo "nproc: $(nproc)"
lscpu | head -n 15
echo "kernel: $(uname -srm)"
rustc --version

echo "== build"
cargo bench -p benches --no-run 2>&1 | tail -n 3

started=$SECONDS
for bench in "${benches[@]}"; do
    echo "== $bench"
    log="$logs/$bench.log"
    status=0
    timeout --kill-after=10 "$limit" \
        cargo bench -q -p benches --bench "$bench" -- "${args[@]}" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        tail -n 30 "$log" >&2
        echo "run.sh: bench $bench failed (exit $status; 124 = timed out after ${limit}s); log: $log" >&2
        exit 1
    fi
    if ! grep -q "time:" "$log"; then
        echo "run.sh: bench $bench printed no result; log: $log" >&2
        exit 1
    fi
done
echo "== all benches done in $((SECONDS - started)) s; logs in $logs"

# Every case's median (criterion's middle estimate), in ns, then the FIGURE lines.
summary="$logs/summary.txt"
for bench in "${benches[@]}"; do
    awk '
        /^[A-Za-z0-9_]+\/[A-Za-z0-9_.\/-]+( |$)/ { name = $1 }
        /time:/ {
            match($0, /\[[^]]*\]/)
            split(substr($0, RSTART + 1, RLENGTH - 2), t, " ")
            scale = (t[4] == "ps") ? 0.001 : (t[4] == "ns") ? 1 : (t[4] == "µs" || t[4] == "us") ? 1e3 : (t[4] == "ms") ? 1e6 : 1e9
            printf "TIME %s %.1f\n", name, t[3] * scale
        }
        /^FIGURE / { print }
    ' "$logs/$bench.log"
done | awk '!seen[$0]++' >"$summary"

echo "== median times (ns)"
grep '^TIME' "$summary" | awk '{ printf "%-60s %14.1f\n", $2, $3 }'
echo "== figures"
grep '^FIGURE' "$summary" | cut -d' ' -f2-

echo "== ratios (ours / baseline; < 1 is faster or smaller)"
awk '
    $1 == "TIME" { t[$2] = $3 }
    $1 == "FIGURE" { v = $5; f[$2 " " $3] = v + 0 }
    $1 == "FIGURE" && $3 ~ /paired/ {
        for (i = 5; i <= NF; i++) if ($i ~ /^[0-9.]+x$/) paired[++np] = sprintf("%-58s %8s   (paired)", $2 " " $3, $i)
    }
    function ratio(label, a, b, target) {
        if ((a in t) && (b in t) && t[b] > 0)
            printf "%-58s %7.2fx   %s\n", label, t[a] / t[b], target
    }
    function fratio(label, a, b, target) {
        if ((a in f) && (b in f) && f[b] > 0)
            printf "%-58s %7.2fx   %s\n", label, f[a] / f[b], target
    }
    END {
        for (i = 1; i <= np; i++) print paired[i]
        ratio("l1 small: macro async / raw moka future get+clone", "l1_hit_small/ours_macro_async", "l1_hit_small/raw_moka_future_get_clone", "must <= 1.3")
        ratio("l1 small: macro async / cached crate async", "l1_hit_small/ours_macro_async", "l1_hit_small/cached_crate_async", "goal <= 1.0")
        ratio("l1 2k: macro async / raw moka future get+clone", "l1_hit_2k/ours_macro_async", "l1_hit_2k/raw_moka_future_get_clone", "must <= 1.3")
        ratio("l1 2k: macro async / cached crate async", "l1_hit_2k/ours_macro_async", "l1_hit_2k/cached_crate_async", "goal <= 1.0")
        ratio("l1 small: engine get_or_load / raw moka future", "l1_hit_small/ours_engine_get_or_load", "l1_hit_small/raw_moka_future_get_clone", "")
        ratio("l1 small: macro sync / cached crate sync", "l1_hit_small/ours_macro_sync", "l1_hit_small/cached_crate_sync", "")
        ratio("l1 small: macro sync / raw moka sync get+clone", "l1_hit_small/ours_macro_sync", "l1_hit_small/raw_moka_sync_get_clone", "")
        ratio("l1 small: request-tier async hit / raw moka future", "l1_hit_small/ours_macro_async_request_tier", "l1_hit_small/raw_moka_future_get_clone", "")
        fratio("contention hot: hits/s ours / cached", "contention hot/ours_macro_sync/hits_per_sec", "contention hot/cached_crate/hits_per_sec", "target >= 1.0")
        fratio("contention hot: hits/s ours / moka get_with", "contention hot/ours_macro_sync/hits_per_sec", "contention hot/moka_sync_get_with/hits_per_sec", "")
        fratio("contention zipf: hits/s ours / cached", "contention zipf/ours_macro_sync/hits_per_sec", "contention zipf/cached_crate/hits_per_sec", "target >= 1.0")
        fratio("contention zipf: hits/s ours / cached sync_writes", "contention zipf/ours_macro_sync/hits_per_sec", "contention zipf/cached_crate_sync_writes_default/hits_per_sec", "")
        ratio("l2: get_or_load hit / raw GET + decode", "l2_hit/ours_get_or_load", "l2_hit/raw_redis_get_decode", "target <= 1.15")
        ratio("l2: get_many(100) / 100 sequential GETs", "l2_get_many/ours_get_many_100", "l2_get_many/raw_100_sequential_gets", "")
        ratio("l2: get_many(100) / raw MGET + decode", "l2_get_many/ours_get_many_100", "l2_get_many/raw_mget_100", "")
        fratio("l2: 64-task rps ours / redis-benchmark -c 50", "l2_hit ours_64_tasks_rps", "l2_hit redis_benchmark_get_c50_rps", "target >= 1.5")
        fratio("l2: 64-task rps ours / raw redis-rs 64 tasks", "l2_hit ours_64_tasks_rps", "l2_hit raw_redis_64_tasks_rps", "")
        ratio("fill: fenced fill / raw SET PX", "fill/ours_fenced_fill", "fill/raw_set_px", "target <= 1.2, one round trip")
        ratio("stampede: ours / cached sync_writes=default", "stampede/ours_macro_async", "stampede/cached_crate_sync_writes_default", "")
        ratio("stampede: ours / moka naive get+insert", "stampede/ours_macro_async", "stampede/moka_naive_get_insert", "")
        fratio("codec: envelope bytes / JSON bytes", "codec envelope/bytes", "codec json/bytes", "target <= 0.10")
        ratio("codec: envelope decode / JSON decode", "codec_decode/envelope", "codec_decode/json", "target <= 0.5")
        ratio("codec: envelope encode / JSON encode", "codec_encode/envelope", "codec_encode/json", "target <= 1.0")
        ratio("overhead: meter / no meter", "overhead/meter_flags_empty", "overhead/no_meter_flags_empty", "")
        ratio("overhead: flags with entries / empty", "overhead/no_meter_flags_with_entries", "overhead/no_meter_flags_empty", "")
        ratio("overhead: meter + flags / neither", "overhead/meter_flags_with_entries", "overhead/no_meter_flags_empty", "")
    }
' "$summary"
echo "summary: $summary"
