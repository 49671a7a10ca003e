#!/usr/bin/env bash
# Screenshot the Asynq web UI (asynqmon, served at /ops/) of a throwaway
# gateway filled with demo traffic, into docs/ops-ui.png (the dashboard) and
# docs/ops-ui-archived.png (archived tasks of the webhooks queue).
#
# Usage: scripts/screenshot-ops.sh
# Needs Go, curl and openssl; installs Debian's chromium when missing (root).
# Nothing outside docs/ and bin/ is written in the tree: the gateway runs from
# a temp dir with its own SQLite DB and embedded Redis, and is killed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
chromium=/usr/bin/chromium
out_dash=docs/ops-ui.png
out_archived=docs/ops-ui-archived.png

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'screenshot-ops: %s\n' "$*" >&2; exit 1; }

for tool in curl openssl; do
	command -v "$tool" >/dev/null || die "$tool is required"
done

# 1. Chromium.
if [[ ! -x $chromium ]]; then
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || die "$chromium is missing; run as root (or install chromium) first"
		sudo=(sudo)
	fi
	log "installing chromium"
	export DEBIAN_FRONTEND=noninteractive
	if ! "${sudo[@]}" apt-get install -y chromium; then
		"${sudo[@]}" apt-get update
		"${sudo[@]}" apt-get install -y chromium
	fi
	[[ -x $chromium ]] || die "apt-get installed chromium but $chromium is missing"
fi

# 2. Build and start the gateway.
log "building"
make build
bin="$root/bin/gateway"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/screenshot-ops.XXXXXX")
gw_pid=""
cleanup() {
	local rc=$?
	if [[ -n $gw_pid ]] && kill -0 "$gw_pid" 2>/dev/null; then
		kill "$gw_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$gw_pid" 2>/dev/null || true
		wait "$gw_pid" 2>/dev/null || true
	fi
	if [[ $rc -ne 0 && -s $tmp/gateway.log ]]; then
		echo "--- last lines of the gateway log ---" >&2
		tail -n 40 "$tmp/gateway.log" >&2
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	if command -v python3 >/dev/null && python3 -c 'import socket' 2>/dev/null; then
		python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
		return
	fi
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}
port=$(free_port)
base="http://127.0.0.1:$port"

stripe_secret=whsec_screenshot_demo_only
twilio_token=screenshot_demo_twilio_token
# A clean environment: embedded Redis (no REDIS_URL), open loopback ops UI (no
# OPS_USERNAME), no real senders. The gateway runs in $tmp so its data/
# (embedded Redis address file) does not touch the tree.
gw_env=(env -i "PATH=$PATH" "HOME=${HOME:-$tmp}" "TMPDIR=$tmp"
	"DATABASE_URL=sqlite:$tmp/gw.db" "HTTP_ADDR=127.0.0.1:$port"
	"STRIPE_WEBHOOK_SECRET=$stripe_secret" "TWILIO_AUTH_TOKEN=$twilio_token")

log "starting gateway on $base"
(cd "$tmp" && exec "${gw_env[@]}" "$bin" serve) >"$tmp/gateway.log" 2>&1 &
gw_pid=$!

# 3. Wait for it, then make traffic.
deadline=$((SECONDS + 60))
until curl -fs -o /dev/null --max-time 2 "$base/healthz"; do
	kill -0 "$gw_pid" 2>/dev/null || die "gateway exited during start-up"
	((SECONDS < deadline)) || die "gateway did not answer $base/healthz within 60s"
	sleep 0.2
done

log "running the demo"
(cd "$tmp" && "${gw_env[@]}" "$bin" demo --url "$base")

# One payment for a booking that does not exist: the worker archives it
# ("no booking found", no retry), so the archived tab has something to show.
log "posting a payment_intent.succeeded for missing booking #999999"
now=$(date +%s)
evt="evt_screenshot_missing_$now"
body=$(printf '{"id":"%s","object":"event","type":"payment_intent.succeeded","api_version":"2023-10-16","created":%d,"livemode":false,"data":{"object":{"id":"pi_screenshot_missing_%d","object":"payment_intent","amount":6000,"amount_received":6000,"currency":"usd","status":"succeeded","metadata":{"booking_id":"999999"}}}}' \
	"$evt" "$now" "$now")
sig=$(printf '%s.%s' "$now" "$body" | openssl dgst -sha256 -hmac "$stripe_secret" -hex | sed 's/^.*= *//')
code=$(curl -sS --max-time 10 -o "$tmp/stripe-answer" -w '%{http_code}' -H 'Content-Type: application/json' \
	-H "Stripe-Signature: t=$now,v1=$sig" --data-binary "$body" "$base/api/v1/webhooks/stripe/payment-events")
echo "   answer: $code $(tr -d '\n' <"$tmp/stripe-answer")"
[[ $code == 200 ]] || die "the gateway did not accept the signed Stripe event"

# Wait until asynqmon's API reports the archived task.
deadline=$((SECONDS + 30))
until [[ $(curl -fs --max-time 2 "$base/ops/api/queues/webhooks" || true) =~ \"archived\":\ *[1-9] ]]; do
	((SECONDS < deadline)) || die "no archived task in queue webhooks within 30s"
	sleep 0.2
done

# 4. Screenshots.
shoot() { # shoot URL FILE WIDTH,HEIGHT
	local profile
	profile=$(mktemp -d "$tmp/chromium.XXXXXX")
	log "screenshot of $1"
	timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--disable-background-networking --disable-component-update --disable-sync \
		--no-first-run --disable-quic --hide-scrollbars --user-data-dir="$profile" \
		--window-size="$3" --virtual-time-budget=8000 \
		--screenshot="$root/$2" "$1" >"$tmp/chromium.log" 2>&1 ||
		{ tail -n 20 "$tmp/chromium.log" >&2; die "chromium failed on $1"; }
	[[ -s $root/$2 ]] || die "chromium wrote no $2"
	# An unrendered (blank) page compresses to a few KB; the UI is 50 KB+.
	(($(wc -c <"$root/$2") > 20000)) || die "$2 looks blank (the UI did not render)"
}
mkdir -p docs
shoot "$base/ops/" "$out_dash" 1400,900
# The archived tab of the webhooks queue (asynqmon route /queues/:qname?status=).
# Its Last Error column is cut off at any width (asynqmon caps the page at
# 1280px); /ops/queues/webhooks/tasks/stripe:<event id> shows the full reason.
shoot "$base/ops/queues/webhooks?status=archived" "$out_archived" 1400,900

# 5. Where they are.
for f in "$out_dash" "$out_archived"; do
	printf 'wrote %s (%s bytes)\n' "$root/$f" "$(wc -c <"$f" | tr -d ' ')"
done

# 6. The request log and a booking's story (opsview pages under /ops/):
# the Go test fills its own fixture and writes docs/ops-booking.png and
# docs/ops-requests.png.
log "screenshots of /ops/requests and /ops/bookings/ID"
UPDATE_SCREENSHOTS=1 go test -count=1 -run '^TestOpsPagesInChromium$' ./cmd/gateway
