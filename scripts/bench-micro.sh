#!/usr/bin/env bash
# make bench-micro: the Go micro-benchmarks (-benchmem) of the verifiers,
# the decoders, the task constructors and the handler path. The handler
# benchmarks need a Redis: TEST_REDIS_URL when set, else a redis-server of
# our own on a free port (no persistence), killed by its pid at the end.
#   BENCHTIME (default 1s), BENCH_COUNT (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z ${TEST_REDIS_URL:-} ]]; then
	command -v redis-server >/dev/null || { echo "bench-micro: redis-server is not installed" >&2; exit 1; }
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	dir=$(mktemp -d)
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
	pid=$!
	trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
	for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
	export TEST_REDIS_URL=redis://127.0.0.1:$port
fi
go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-1s}" -count "${BENCH_COUNT:-1}" ./verify ./jobs ./handlers
