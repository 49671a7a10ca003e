#!/usr/bin/env bash
# Makes sure the Redis and PostgreSQL the tests use answer.
#
# Uses TEST_REDIS_URL / REDIS_URL and TEST_DATABASE_URL / DATABASE_URL when
# set, else the servers on localhost's standard ports. When none answers it
# starts a throwaway one (installing Debian's redis-server / postgresql
# first when missing and running as root). Exits non-zero when a service
# still does not answer: tests never skip silently.
set -euo pipefail

log() { echo "test-services: $*" >&2; }

# host_port URL DEFAULT_PORT prints "host port" of a redis:// or postgres:// URL.
host_port() {
	local rest=${1#*://}
	rest=${rest#*@}
	rest=${rest%%/*}
	rest=${rest%%\?*}
	local host=${rest%%:*} port=$2
	[[ $rest == *:* ]] && port=${rest##*:}
	echo "${host:-127.0.0.1} $port"
}

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

install_pkg() {
	if [[ $(id -u) -ne 0 ]]; then
		log "$1 is missing and I am not root: install it (apt-get install $1) or set the URL"
		return 1
	fi
	log "installing $1"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null; }
}

wait_for() {
	for _ in $(seq 1 50); do
		answers "$1" "$2" && return 0
		sleep 0.2
	done
	return 1
}

redis_url=${TEST_REDIS_URL:-${REDIS_URL:-redis://127.0.0.1:6379}}
read -r rhost rport < <(host_port "$redis_url" 6379)
if answers "$rhost" "$rport"; then
	log "redis answers at $rhost:$rport"
else
	log "no redis at $rhost:$rport; starting a throwaway one"
	command -v redis-server >/dev/null || install_pkg redis-server
	redis-server --daemonize yes --bind 127.0.0.1 --port "$rport" --save "" --appendonly no \
		--dir /tmp --logfile /tmp/gateway-test-redis.log
	wait_for "$rhost" "$rport" || { log "redis did not start"; exit 1; }
fi

db_url=${TEST_DATABASE_URL:-${DATABASE_URL:-}}
[[ $db_url == postgres* ]] || db_url=postgres://postgres@127.0.0.1:5432/test
read -r phost pport < <(host_port "$db_url" 5432)
if answers "$phost" "$pport"; then
	log "postgresql answers at $phost:$pport"
	exit 0
fi
log "no postgresql at $phost:$pport; starting a throwaway one"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	install_pkg postgresql
fi
if ls /etc/postgresql/*/main >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null; then
	pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! wait_for "$phost" "$pport"; then
	bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | tail -1)")
	dir=/tmp/gateway-test-pg
	rm -rf "$dir" && mkdir -p "$dir"
	owner=postgres
	id postgres >/dev/null 2>&1 || owner=$(id -un)
	chown "$owner" "$dir"
	as() { if [[ $(id -un) == "$1" ]]; then "${@:2}"; else su "$1" -s /bin/bash -c "$(printf '%q ' "${@:2}")"; fi; }
	as "$owner" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
	as "$owner" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -o "-p $pport -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
	wait_for "$phost" "$pport" || { log "postgresql did not start"; exit 1; }
fi
for _ in $(seq 1 25); do
	psql "postgres://postgres@$phost:$pport/postgres" -qtAc 'select 1' >/dev/null 2>&1 && break
	sleep 0.2
done
psql "postgres://postgres@$phost:$pport/postgres" -qtAc "select 1 from pg_database where datname='test'" | grep -q 1 ||
	psql "postgres://postgres@$phost:$pport/postgres" -qc 'create database test'
log "postgresql answers at $phost:$pport"
