#!/usr/bin/env bash
# Checks the Prometheus alerting rules with promtool: the syntax
# (promtool check rules docs/prometheus/alerts.yml) and the unit tests
# (promtool test rules docs/prometheus/alerts_test.yml). Installs Debian's
# prometheus package (which has promtool) when promtool is missing and
# running as root. Without promtool it skips with a warning, except under
# CI=true where it fails. The queries of the rules and of
# docs/grafana/gateway.json are checked against what /metrics serves by
# TestMonitoringQueries (cmd/gateway), run by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "check-monitoring: $*" >&2; }

if ! command -v promtool >/dev/null; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		log "installing Debian's prometheus package for promtool"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null 2>&1 &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null; } ||
			log "could not install prometheus"
	fi
fi
if ! command -v promtool >/dev/null; then
	if [[ ${CI:-} == true ]]; then
		log "promtool is missing (apt-get install prometheus): the alert rules are not checked"
		exit 1
	fi
	log "WARNING: promtool is missing (apt-get install prometheus): alert rules NOT checked"
	exit 0
fi
promtool check rules docs/prometheus/alerts.yml
promtool test rules docs/prometheus/alerts_test.yml
