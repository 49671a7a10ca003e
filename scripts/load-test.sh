#!/usr/bin/env bash
# Bursts signed Stripe webhooks at a local `gateway api` with wrk and prints
# the latency distribution, beside /healthz as the bare baseline.
#
#   scripts/load-test.sh [DURATION] [CONNECTIONS]
#
# Needs wrk (apt-get install wrk), openssl and a Redis (REDIS_URL, default
# redis://127.0.0.1:6379/9, which it flushes). Every request carries the
# same event, so each is verified and deduplicated in Redis (two round
# trips, like an accepted event) without a worker.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
conns=${2:-32}
redis_url=${REDIS_URL:-redis://127.0.0.1:6379/9}
secret=whsec_load_test
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT

command -v wrk >/dev/null || { echo "load-test: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
make -s build
redis-cli -u "$redis_url" flushdb >/dev/null

REDIS_URL=$redis_url DATABASE_URL=sqlite:$tmp/gw.db STRIPE_WEBHOOK_SECRET=$secret \
	HTTP_ADDR=127.0.0.1:$port LOG_LEVEL=warn ./bin/gateway api >"$tmp/gateway.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

body='{"id":"evt_load_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_load","object":"payment_intent","amount":6000,"currency":"usd","metadata":{"booking_id":"1"}}}}'
t=$(date +%s)
sig=$(printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$secret" -hex | awk '{print $NF}')
cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.body = [[$body]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Stripe-Signature"] = "t=$t,v1=$sig"
LUA

echo "== signed Stripe webhook ($conns connections, $duration)"
wrk -t2 -c"$conns" -d"$duration" --latency -s "$tmp/post.lua" "http://127.0.0.1:$port/api/v1/webhooks/stripe/payment-events"
echo "== /healthz, the bare baseline"
wrk -t2 -c"$conns" -d"$duration" --latency "http://127.0.0.1:$port/healthz"
redis-cli -u "$redis_url" flushdb >/dev/null
