#!/usr/bin/env bash
# Runs `paycreds bench` at several concurrencies and plots calls per second and p99
# latency against concurrency. Extra arguments go to every paycreds bench run, such as
# --base-url "$CYBERSOURCE_BASE_URL" or --decrypt. Without --base-url each run starts its
# own sandbox on 127.0.0.1.
#
#   scripts/bench-concurrency.sh [paycreds bench flags]
#
# Output: docs/bench-concurrency.jsonl and docs/bench-concurrency.svg, unless
# BENCH_OUTPUT names another path without extension.
set -euo pipefail

cd "$(dirname "$0")/.."
output=${BENCH_OUTPUT:-docs/bench-concurrency}
concurrencies=${BENCH_CONCURRENCIES:-"1 2 4 8 16 32 64"}
duration=${BENCH_DURATION:-5s}

mkdir -p "$(dirname "$output")"
go build -o /tmp/paycreds-bench ./cmd/paycreds
: > "$output.jsonl"
for c in $concurrencies; do
	/tmp/paycreds-bench bench --json --progress 0 --calls 100000000 --duration "$duration" --concurrency "$c" "$@" >> "$output.jsonl"
	tail -n 1 "$output.jsonl" >&2
done
go run ./scripts/benchplot -o "$output.svg" -title "paycreds bench, $(nproc) cores, $(go env GOVERSION)" "$output.jsonl"
echo "wrote $output.jsonl and $output.svg" >&2
