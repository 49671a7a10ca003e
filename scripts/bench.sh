#!/usr/bin/env bash
# make bench: the gateway's end-to-end benchmark on this machine, from a
# fresh clone. It starts everything it needs itself and kills it (by pid)
# at the end:
#
#   * its own redis-server on a free port (no RDB snapshots, AOF off: the
#     ingress figures are Redis's in-memory cost, not disk);
#   * its own PostgreSQL 15 cluster (initdb + pg_ctl, as the postgres user
#     when run as root) on a free port, with pg_stat_statements preloaded,
#     in a temporary directory removed at the end;
#   * the binaries it builds (gateway, loadgen, bareecho, benchsinks).
#
# Ingress: BENCH_ROUNDS interleaved rounds (A B C D A B C D ...) of the load
# generator against `gateway api`, `gateway serve`, the embedded default
# (`gateway serve` with REDIS_URL and DATABASE_URL unset) and the bare Echo
# handler (the ceiling), Stripe then Twilio on each; every target is started
# fresh for its round and Redis is flushed between targets. After each
# closed-loop run, the same target gets as many requests again open loop
# (loadgen run -rate) at half the rate it just sustained, latency counted
# from each request's due time: the second table.
#
# Profile (BENCH_PROFILE=1): `gateway api` with OPS_PPROF=true under
# closed-loop Stripe load, a 10 s CPU profile from /ops/debug/pprof/profile
# (with the ops credentials set here), `go tool pprof -top` top 15.
#
# Workers: BENCH_WORKER_EVENTS bookings are created in PostgreSQL, as many
# Stripe events about them are queued through `gateway api`, then
# `gateway worker` (default settings, SMS to a local Twilio double, email to
# a local SMTP sink) drains the queue; events/s, PostgreSQL statements,
# commits and sessions per event.
#
# Settings (environment): BENCH_REQUESTS (10000 per run), BENCH_CONCURRENCY
# (32), BENCH_ROUNDS (2), BENCH_DUPLICATES (0.05), BENCH_WARMUP (500,
# unmeasured, per target), BENCH_HALF (1; 0: no half-rate runs),
# BENCH_PROFILE (0; 1: the CPU profile), BENCH_WORKER_EVENTS (20000; 0: no
# worker phase), BENCH_FAILED (0.2: share of payment_failed among the
# worker's events), BENCH_OUT (directory to keep the results and logs in;
# default: removed with the rest). BENCH_ROUNDS=0 runs the worker phase only.
set -euo pipefail
cd "$(dirname "$0")/.."

requests=${BENCH_REQUESTS:-10000}
conc=${BENCH_CONCURRENCY:-32}
rounds=${BENCH_ROUNDS:-2}
dups=${BENCH_DUPLICATES:-0.05}
warmup=${BENCH_WARMUP:-500}
wevents=${BENCH_WORKER_EVENTS:-20000}
failed=${BENCH_FAILED:-0.2}
half=${BENCH_HALF:-1}
profile=${BENCH_PROFILE:-0}
pgbin=${PG_BIN:-/usr/lib/postgresql/15/bin}

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

for c in redis-server redis-cli curl python3 "$pgbin/initdb" "$pgbin/pg_ctl" psql; do
	command -v "$c" >/dev/null || die "$c is not installed (redis-server, postgresql-15, curl, python3 are needed)"
done

tmp=$(mktemp -d /tmp/gw-bench.XXXXXX)
chmod 755 "$tmp"
pids=()
pgdata=$tmp/pg
cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [[ -f $pgdata/postmaster.pid ]]; then as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true; fi
	if [[ -n ${BENCH_OUT:-} ]]; then
		mkdir -p "$BENCH_OUT" && cp "$tmp"/*.jsonl "$tmp"/*.log "$tmp"/*.txt "$BENCH_OUT"/ 2>/dev/null || true
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# start NAME CMD... runs CMD in the background with its output in NAME.log
# and sets $pid (also remembered for the cleanup).
start() {
	local name=$1; shift
	"$@" >"$tmp/$name.log" 2>&1 &
	pid=$!
	pids+=("$pid")
}

# stop PID: SIGTERM, then wait for it to exit.
stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local keep=()
	for p in "${pids[@]}"; do [[ $p != "$1" ]] && keep+=("$p"); done
	pids=("${keep[@]}")
}

wait_http() { # URL NAME PID
	for _ in $(seq 1 200); do
		curl -sf -o /dev/null "$1" && return 0
		kill -0 "$3" 2>/dev/null || { cat "$tmp/$2.log" >&2; die "$2 exited"; }
		sleep 0.05
	done
	cat "$tmp/$2.log" >&2
	die "$2 did not answer $1"
}

log "building into $tmp/bin"
CGO_ENABLED=0 go build -trimpath -o "$tmp/bin/" ./cmd/gateway ./cmd/loadgen ./cmd/bareecho ./cmd/benchsinks
bin=$tmp/bin

# Redis: in memory only.
rport=$(free_port)
mkdir -p "$tmp/redis"
start redis redis-server --port "$rport" --bind 127.0.0.1 --dir "$tmp/redis" --save '' --appendonly no
redis_pid=$pid
for _ in $(seq 1 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis_url=redis://127.0.0.1:$rport/0

# PostgreSQL: a cluster of our own, default settings plus pg_stat_statements.
pport=$(free_port)
mkdir -p "$pgdata" && chown postgres: "$pgdata" 2>/dev/null || true
log "initdb $pgdata (port $pport)"
as_pg "$pgbin/initdb" -D "$pgdata" -A trust -U postgres >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; die "initdb failed"; }
as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w \
	-o "-p $pport -k $pgdata -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements -c max_connections=200" \
	start >/dev/null || { cat "$pgdata/server.log" >&2; die "postgres did not start"; }
pg_pid=$(head -1 "$pgdata/postmaster.pid")
db_url=postgres://postgres@127.0.0.1:$pport/gw_bench?sslmode=disable
psql_() { psql -X -q -A -t -h 127.0.0.1 -p "$pport" -U postgres -d gw_bench -v ON_ERROR_STOP=1 "$@"; }
psql -X -q -h 127.0.0.1 -p "$pport" -U postgres -d postgres -c 'CREATE DATABASE gw_bench' >/dev/null
psql_ -c 'CREATE EXTENSION pg_stat_statements' >/dev/null
DATABASE_URL=$db_url "$bin/gateway" migrate >"$tmp/migrate.log" 2>&1 || { cat "$tmp/migrate.log" >&2; die "migrate failed"; }

export STRIPE_WEBHOOK_SECRET=whsec_bench_$(rand_hex 16)
export TWILIO_AUTH_TOKEN=$(rand_hex 16)
ops_user=bench ops_pass=$(rand_hex 16) # for the profile's /ops/debug/pprof/
twilio_sid=AC$(rand_hex 16)
tport=$(free_port) sport=$(free_port)
start sinks env TWILIO_ADDR=127.0.0.1:$tport SMTP_ADDR=127.0.0.1:$sport "$bin/benchsinks"
sinks_pid=$pid
senders=(TWILIO_ACCOUNT_SID="$twilio_sid" TWILIO_FROM_NUMBER=+15005550006
	TWILIO_API_BASE_URL="http://127.0.0.1:$tport" SMTP_URL="smtp://127.0.0.1:$sport"
	SUPPORT_EMAIL=support@example.com)

# start_target NAME PORT: starts one target; sets $tpid and $watch.
start_target() {
	local name=$1 port=$2 common=(HTTP_ADDR="127.0.0.1:$2" PUBLIC_BASE_URL="http://127.0.0.1:$2")
	case $name in
	api) start "$name" env "${common[@]}" REDIS_URL="$redis_url" "$bin/gateway" api ;;
	api-pprof) start "$name" env "${common[@]}" REDIS_URL="$redis_url" OPS_USERNAME="$ops_user" OPS_PASSWORD="$ops_pass" OPS_PPROF=true "$bin/gateway" api ;;
	serve) start "$name" env "${common[@]}" "${senders[@]}" REDIS_URL="$redis_url" DATABASE_URL="$db_url" "$bin/gateway" serve ;;
	embedded)
		rm -rf "$tmp/embedded" && mkdir -p "$tmp/embedded"
		start "$name" bash -c "cd '$tmp/embedded' && exec env -u REDIS_URL -u DATABASE_URL ${common[*]} '$bin/gateway' serve"
		;;
	bare) start "$name" env HTTP_ADDR="127.0.0.1:$2" "$bin/bareecho" ;;
	esac
	tpid=$pid
	wait_http "http://127.0.0.1:$port/healthz" "$name" "$tpid"
	watch=gateway=$tpid
	[[ $name == api* || $name == serve ]] && watch+=,redis=$redis_pid
	return 0
}

uptime | tee "$tmp/uptime-start.txt" >&2
results=$tmp/ingress.jsonl halfres=$tmp/half.jsonl
# last_rate FILE: the req/s of the last result in FILE.
last_rate() { python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).readlines()[-1])["requests_per_second"])' "$1"; }
((rounds > 0)) && log "ingress: $rounds rounds x (api serve embedded bare) x (stripe twilio), $requests requests each at $conc connections, $dups duplicates"
for round in $(seq 1 "$rounds"); do
	for target in api serve embedded bare; do
		redis-cli -p "$rport" flushall >/dev/null
		port=$(free_port)
		start_target "$target" "$port"
		for provider in stripe twilio; do
			if ((warmup > 0)); then
				"$bin/loadgen" run -url "http://127.0.0.1:$port" -provider "$provider" -n "$warmup" -c "$conc" \
					-seed $((round * 100 + 99)) -name warmup >/dev/null
			fi
			log "round $round: $target $provider"
			"$bin/loadgen" run -url "http://127.0.0.1:$port" -provider "$provider" -n "$requests" -c "$conc" \
				-dup "$dups" -name "$target" -round "$round" -seed "$round" -watch "$watch" -json "$results" >/dev/null
			if ((half)); then
				rate=$(python3 -c 'import sys; print(round(float(sys.argv[1]) / 2, 1))' "$(last_rate "$results")")
				log "round $round: $target $provider at half its max rate, $rate/s"
				"$bin/loadgen" run -url "http://127.0.0.1:$port" -provider "$provider" -n "$requests" -c "$conc" -rate "$rate" \
					-dup "$dups" -name "$target" -round "$round" -seed $((round * 100 + 50)) -watch "$watch" -json "$halfres" >/dev/null
			fi
		done
		stop "$tpid"
	done
done
if ((rounds > 0)); then
	uptime | tee "$tmp/uptime-ingress.txt" >&2
	echo
	echo "## Ingress ($requests requests per run, $conc connections, $dups duplicates, medians of $rounds interleaved rounds)"
	echo
	"$bin/loadgen" report -ceiling bare "$results" | tee "$tmp/ingress-table.txt"
	if ((half)); then
		echo
		echo "## Ingress at half the max rate (open loop: $requests requests per run at half the rate each target sustained just before, at most $conc in flight; latency from each request's due time)"
		echo
		"$bin/loadgen" report -ceiling bare "$halfres" | tee "$tmp/half-table.txt"
	fi
fi

# profile_load URL: closed-loop Stripe load on URL until SIGTERM, in runs
# of $requests unique events (each run's events are generated up front).
profile_load() {
	local c=
	trap 'kill $c 2>/dev/null; wait $c 2>/dev/null; exit 0' TERM
	for s in $(seq 1000 9999); do
		"$bin/loadgen" run -url "$1" -provider stripe -n "$requests" -c "$conc" -dup "$dups" -seed "$s" -name profile >/dev/null &
		c=$!
		wait "$c" || true
	done
}

if ((profile)); then
	redis-cli -p "$rport" flushall >/dev/null
	port=$(free_port)
	start_target api-pprof "$port"
	log "profile: gateway api under closed-loop Stripe load, 10 s CPU profile"
	start profile-load profile_load "http://127.0.0.1:$port"
	load_pid=$pid
	sleep 1 # past the connections' start
	curl -sf -u "$ops_user:$ops_pass" -o "$tmp/cpu.pprof" "http://127.0.0.1:$port/ops/debug/pprof/profile?seconds=10" || die "profile: curl failed"
	stop "$load_pid"
	stop "$tpid"
	echo
	echo "## CPU profile of gateway api under closed-loop Stripe load ($conc connections, 10 s; go tool pprof -top, top 15)"
	echo
	go tool pprof -top -nodecount=15 "$bin/gateway" "$tmp/cpu.pprof" 2>/dev/null | tee "$tmp/profile-top.txt"
	redis-cli -p "$rport" flushall >/dev/null
fi

if ((wevents == 0)); then
	uptime >&2
	stop "$sinks_pid"
	exit 0
fi

# Workers: real bookings, their events queued through gateway api.
log "workers: creating $wevents bookings"
redis-cli -p "$rport" flushall >/dev/null
psql_ -c "INSERT INTO bookings (customer_name, customer_phone, customer_email, status, deposit_amount, deposit_currency)
	SELECT 'Bench Guest ' || g, '+1555' || lpad(g::text, 7, '0'), 'guest' || g || '@example.com', 'payment_pending', 6000, 'usd'
	FROM generate_series(1, $wevents) g" >/dev/null
read -r first last < <(psql_ -F ' ' -c "SELECT min(id), max(id) FROM bookings WHERE customer_name LIKE 'Bench Guest %'")
port=$(free_port)
start_target api "$port"
log "workers: queueing $wevents events (bookings $first-$last, $failed payment_failed) through gateway api"
"$bin/loadgen" run -url "http://127.0.0.1:$port" -provider stripe -n "$wevents" -c "$conc" -dup 0 -failed "$failed" \
	-bookings "$first-$last" -name fill -json "$tmp/fill.jsonl" >/dev/null
stop "$tpid"

stats() {
	psql_ -F ' ' -c "SELECT xact_commit, sessions FROM pg_stat_database WHERE datname = 'gw_bench'"
}
psql_ -c 'SELECT pg_stat_statements_reset()' >/dev/null
read -r commits0 sessions0 < <(stats)
port=$(free_port)
log "workers: gateway worker at the default settings drains the queue"
start worker env HTTP_ADDR="127.0.0.1:$port" "${senders[@]}" REDIS_URL="$redis_url" DATABASE_URL="$db_url" MIGRATE=false "$bin/gateway" worker
worker_pid=$pid
"$bin/loadgen" drain -redis "$redis_url" -watch "worker=$worker_pid,redis=$redis_pid" -json "$tmp/drain.jsonl" >"$tmp/drain.txt"
stop "$worker_pid"
# Backends report their counts to pg_stat_database at most once a second
# and at exit: read them once the worker (and its connections) are gone.
sleep 1
read -r commits1 sessions1 < <(stats)
stmts=$(psql_ -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
	WHERE d.datname = 'gw_bench' AND query NOT LIKE '%pg_stat%'")
uptime | tee "$tmp/uptime-end.txt" >&2

echo
echo "## Workers ($wevents Stripe events, $failed payment_failed, gateway worker at the default settings)"
echo
head -1 "$tmp/drain.txt"
awk -v n="$wevents" -v s="$stmts" -v c0="$commits0" -v c1="$commits1" -v x0="$sessions0" -v x1="$sessions1" 'BEGIN {
	printf "PostgreSQL per event: %.2f statements (pg_stat_statements calls, BEGIN/COMMIT included), %.2f commits (pg_stat_database xact_commit), %d sessions opened in all\n", s / n, (c1 - c0) / n, x1 - x0
}' | tee "$tmp/pg.txt"
echo
echo "Statements by calls per event (top 15):"
psql_ -F ' | ' -c "SELECT round(calls::numeric / $wevents, 2), left(regexp_replace(query, '\s+', ' ', 'g'), 110)
	FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
	WHERE d.datname = 'gw_bench' AND query NOT LIKE '%pg_stat%' ORDER BY calls DESC LIMIT 15" | tee "$tmp/statements.txt"
psql_ -F ' ' -c "SELECT 'bookings confirmed', count(*) FILTER (WHERE status = 'confirmed'), 'pending', count(*) FILTER (WHERE status = 'payment_pending') FROM bookings WHERE customer_name LIKE 'Bench Guest %'"
psql_ -F ' ' -c "SELECT 'notifications', channel, status, count(*) FROM notifications GROUP BY 1, 2, 3 ORDER BY 2, 3"
stop "$sinks_pid"
echo "sinks: $(tail -1 "$tmp/sinks.log")"
