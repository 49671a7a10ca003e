#!/usr/bin/env bash
# check-docker.sh: check the container files (Dockerfile, .dockerignore,
# docker-compose.yml) on a machine WITHOUT a Docker engine.
#
#   1. docker-compose.yml parses (docker compose config, else PyYAML, else
#      go.yaml.in/yaml/v3 from the module cache, else a text check) and has
#      the expected services, images, commands, dependencies and settings:
#      every image pinned to a version, only the api's webhook port published
#      on every interface, every gateway setting passed through, api and
#      worker healthchecks, a stop_grace_period above SHUTDOWN_TIMEOUT; and
#      .env.example lists every setting, with empty secrets, and .env is
#      git-ignored;
#   2. the Dockerfile has the expected stages and build flags, its base
#      images pinned;
#   3. the Dockerfile's build step, run as a plain command on the build
#      context that .dockerignore leaves, gives a static binary;
#   4. that binary runs as uid 65532 (the image's USER): --help, the SQLite
#      fallback in the image's /app/data layout, `gateway healthcheck`
#      against a stand-in /readyz and against nothing, and each compose
#      service's environment passes the gateway's settings check.
#
# Not part of `make test`. Usage:
#   scripts/check-docker.sh
#   GATEWAY_IMAGE_DIR=/tmp/x scripts/check-docker.sh   # where to build (default /tmp/gateway-image)
#   CHECK_DOCKER_PARSER=pyyaml|go|text                 # force a compose parser fallback
#   CHECK_DOCKER_ENGINE=1                              # also docker build/run, if an engine answers
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${GATEWAY_IMAGE_DIR:-/tmp/gateway-image}
BIN=$OUT/gateway
NONROOT=65532 # distroless :nonroot
export GOFLAGS=${GOFLAGS:--buildvcs=false}

passed=0 failed=0
step() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok   %s\n' "$*"; passed=$((passed + 1)); }
bad() { printf 'FAIL %s\n' "$*"; failed=$((failed + 1)); }
note() { printf 'note %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

# $OUT is wiped: refuse / and anything holding the work tree.
mkdir -p "$OUT"
out_real=$(cd "$OUT" && pwd -P)
out_real=${out_real%/}
case "$(cd "$ROOT" && pwd -P)/" in
"$out_real"/*)
	echo "check-docker: GATEWAY_IMAGE_DIR=$OUT holds the work tree; pick a scratch directory" >&2
	exit 2
	;;
esac
rm -rf "$OUT"
mkdir -p "$OUT"
chmod 755 "$OUT"

# The settings the gateway reads: the names its config package hands to its
# parser (p.str("HTTP_ADDR", ...), p.duration(...), getenv(...)); p.fail only
# names a setting in an error. docker-compose.yml must pass every one of them.
READ_SETTINGS=$(find config -maxdepth 1 -name '*.go' ! -name '*_test.go' -exec grep -ohE '(p\.[a-zA-Z]+|[gG]etenv|LookupEnv)\("[A-Z][A-Z0-9_]+"' {} + |
	grep -v '^p\.fail(' | sed -E 's/^.*\("//; s/"$//' | sort -u | tr '\n' ' ' || true)
# Settings of the product's Settings table that config does not read yet:
# compose and .env.example may pass them through (empty), and the gateway
# ignores them until they are implemented. Once config reads one, it is
# checked like the others; drop it from here then.
PLANNED_SETTINGS=""
# Every known setting: compose and .env.example may name only these, and
# they are unset below so that compose's defaults are checked rather than
# this shell's values.
SETTINGS=$(printf '%s\n' $READ_SETTINGS $PLANNED_SETTINGS | sort -u | tr '\n' ' ')
export GATEWAY_SETTINGS=$SETTINGS GATEWAY_READ_SETTINGS=$READ_SETTINGS GATEWAY_PLANNED_SETTINGS=$PLANNED_SETTINGS
clean_env=(env)
for v in $SETTINGS; do clean_env+=(-u "$v"); done
# SHUTDOWN_TIMEOUT's default, for stop_grace_period: config's
# DefaultShutdownTimeout = N * time.Second (or Minute).
shutdown_default=$(grep -ohE 'DefaultShutdownTimeout[[:space:]]*=[[:space:]]*[0-9]+ \* time\.(Second|Minute)' config/*.go | head -1 |
	sed -E 's/.*= *([0-9]+) \* time\.(Second|Minute)/\1 \2/' | awk '{print ($2 == "Minute") ? $1 * 60 : $1}' || true)
export GATEWAY_SHUTDOWN_DEFAULT=${shutdown_default:-}
# The binary's path in the image (ENTRYPOINT ["/gateway"]): what a compose
# healthcheck must run.
image_bin=$(sed -nE 's/^ENTRYPOINT \["([^"]+)".*/\1/p' Dockerfile | head -1)
export GATEWAY_IMAGE_BIN=${image_bin:-}

# run_as_nonroot runs a command as uid/gid 65532 like the image does (as the
# current user when that is not root already; as nobody without setpriv).
run_as_nonroot() {
	if [ "$(id -u)" != 0 ]; then
		"$@"
	elif have setpriv; then
		setpriv --reuid="$NONROOT" --regid="$NONROOT" --clear-groups -- "$@"
	elif have runuser; then
		runuser -u nobody -- "$@"
	else
		# shellcheck disable=SC2016 # $0 and $@ are for the inner sh
		su -s /bin/sh -c '"$0" "$@"' -- nobody "$@"
	fi
}
if [ "$(id -u)" != 0 ]; then
	RUN_UID=$(id -u)
elif have setpriv; then
	RUN_UID=$NONROOT
else
	RUN_UID=$(id -u nobody)
fi

######################################################################
step "1. docker-compose.yml parses and has the expected services"

if [ -f docker-compose.yml ]; then ok "docker-compose.yml exists"; else bad "docker-compose.yml missing"; fi

compose=()
if docker compose version >/dev/null 2>&1; then
	compose=(docker compose)
elif have docker-compose && docker-compose version --short 2>/dev/null | grep -q '^v\?2'; then
	compose=(docker-compose)
fi
parser=${CHECK_DOCKER_PARSER:-}
if [ -z "$parser" ]; then
	if [ ${#compose[@]} -gt 0 ]; then
		parser=compose
	elif have python3 && python3 -c 'import yaml' 2>/dev/null; then
		parser=pyyaml
	elif have go && awk '$1 == "go.yaml.in/yaml/v3" && $2 !~ /go\.mod$/' go.sum | grep -q .; then
		parser=go
	else
		parser=text
	fi
fi
json=$OUT/compose.json
mode=raw # raw: YAML as written (${VAR:-default} not yet interpolated)
case $parser in
compose)
	note "parser: ${compose[*]} ($("${compose[@]}" version --short 2>/dev/null))"
	# --env-file /dev/null: ignore a developer's .env, check the defaults.
	if "${clean_env[@]}" "${compose[@]}" -f docker-compose.yml --env-file /dev/null config -q; then
		ok "${compose[*]} config -q"
	else
		bad "${compose[*]} config -q"
	fi
	if "${clean_env[@]}" "${compose[@]}" -f docker-compose.yml --env-file /dev/null config --format json >"$json"; then
		mode=normalized
	else
		bad "${compose[*]} config --format json"
		parser=text
	fi
	;;
pyyaml)
	note "parser: python3 + PyYAML (no docker compose plugin here)"
	if python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)' docker-compose.yml >"$json"; then
		ok "docker-compose.yml is valid YAML (PyYAML safe_load, merge keys resolved)"
	else
		bad "docker-compose.yml does not parse (PyYAML)"
		parser=text
	fi
	;;
go)
	# go.yaml.in/yaml/v3 is already in go.sum and the module cache (a test
	# dependency); a throwaway module outside the tree uses it offline.
	ver=$(awk '$1 == "go.yaml.in/yaml/v3" && $2 !~ /go\.mod$/ {print $2}' go.sum | tail -1)
	note "parser: go.yaml.in/yaml/v3 ${ver:-(not in go.sum)} from the module cache"
	ydir=$OUT/yamlcheck
	mkdir -p "$ydir"
	printf 'module yamlcheck\n\ngo 1.22\n\nrequire go.yaml.in/yaml/v3 %s\n' "$ver" >"$ydir/go.mod"
	grep "^go.yaml.in/yaml/v3 ${ver}[ /]" go.sum >"$ydir/go.sum" || true
	cat >"$ydir/main.go" <<-'EOF'
		package main

		import (
			"encoding/json"
			"os"

			"go.yaml.in/yaml/v3"
		)

		func main() {
			b, err := os.ReadFile(os.Args[1])
			if err != nil {
				panic(err)
			}
			var doc map[string]any
			if err := yaml.Unmarshal(b, &doc); err != nil {
				os.Stderr.WriteString(err.Error() + "\n")
				os.Exit(1)
			}
			if err := json.NewEncoder(os.Stdout).Encode(doc); err != nil {
				panic(err)
			}
		}
	EOF
	if (cd "$ydir" && GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local go run . "$ROOT/docker-compose.yml") >"$json"; then
		ok "docker-compose.yml is valid YAML (go.yaml.in/yaml/v3, merge keys resolved)"
	else
		bad "docker-compose.yml does not parse (go.yaml.in/yaml/v3)"
		parser=text
	fi
	;;
text) ;;
*)
	bad "CHECK_DOCKER_PARSER=$parser: want compose, pyyaml, go or text"
	parser=text
	;;
esac

if [ "$parser" = text ]; then
	note "parser: none available; structural text check only"
	if grep -q '^version:' docker-compose.yml; then bad "no top-level version: key"; else ok "no top-level version: key"; fi
	if have python3; then
		names=$(python3 - docker-compose.yml <<-'EOF'
			import re, sys
			inside = False
			for line in open(sys.argv[1]):
			    if re.match(r"^\S", line):
			        inside = line.startswith("services:")
			    elif inside:
			        m = re.match(r"^  ([A-Za-z0-9_.-]+):\s*(#.*)?$", line)
			        if m:
			            print(m.group(1))
		EOF
		)
	else
		names=$(awk '/^[^ #]/ {s = ($0 ~ /^services:/)} s && /^  [A-Za-z0-9_.-]+:[[:space:]]*$/ {sub(/:.*/, ""); sub(/^ +/, ""); print}' docker-compose.yml)
	fi
	for s in redis postgres migrate api worker mailpit; do
		if grep -qx "$s" <<<"$names"; then ok "service $s"; else bad "service $s missing"; fi
	done
	if grep -qx asynqmon <<<"$names"; then bad "standalone asynqmon (unauthenticated, writable UI)"; else ok "no standalone asynqmon"; fi
	for want in 'redis:7.' '--appendonly' 'noeviction' 'postgres:16.' 'pg_isready' \
		'service_completed_successfully' 'axllent/mailpit:v' '"8080:8080"' '"127.0.0.1:8025:8025"' \
		'MIGRATE: "false"' 'smtp://mailpit:1025' 'x-gateway' "[\"CMD\", \"${GATEWAY_IMAGE_BIN:-/gateway}\", \"healthcheck\"]" \
		'stop_grace_period:'; do
		if grep -qF -- "$want" docker-compose.yml; then ok "mentions $want"; else bad "does not mention $want"; fi
	done
	for v in $READ_SETTINGS $PLANNED_SETTINGS; do
		if grep -qE "^  $v:" docker-compose.yml; then ok "x-gateway-env sets $v"; else bad "x-gateway-env lacks $v"; fi
	done
	if grep -nE '^[[:space:]]+image:' docker-compose.yml | grep -vE 'image: reserveeasy/gateway:' | grep -vE ':(v?[0-9]+\.[0-9]+[.0-9]*[-_a-z0-9.]*)$|@sha256:'; then
		bad "images above are not pinned to a version"
	else
		ok "every image has a version tag"
	fi
	note "service environments not extracted: step 4's settings check is skipped"
else
	# One set of assertions for both the raw YAML and docker compose's
	# normalized model. It also writes each gateway service's environment to
	# $OUT/env-<service> for step 4.
	if ! have python3; then
		bad "python3 is needed to check the parsed compose model"
	else
		set +e
		python3 - "$json" "$mode" "$ROOT" "$OUT" >"$OUT/compose-checks.txt" 2>&1 <<-'EOF'
		import json, os, re, sys
		from urllib.parse import urlsplit, urlunsplit

		path, mode, root, out = sys.argv[1:5]
		settings = set(os.environ.get("GATEWAY_SETTINGS", "").split())
		doc = json.load(open(path))
		fails = 0

		def check(cond, msg):
		    global fails
		    print(("ok   " if cond else "FAIL ") + msg)
		    fails += 0 if cond else 1

		# ${VAR:-default}, ${VAR-default}, ${VAR}, $VAR and $$, resolved
		# against this environment less the gateway's settings (as compose
		# would with them unset).
		clean = {k: v for k, v in os.environ.items() if k not in settings}
		var = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")

		def interp(v):
		    if mode != "raw" or not isinstance(v, str):
		        return v
		    def rep(m):
		        if m.group(0) == "$$":
		            return "$"
		        name = m.group(1) or m.group(4)
		        val = clean.get(name)
		        if m.group(2) == ":-" and not val:
		            return m.group(3)
		        if m.group(2) == "-" and val is None:
		            return m.group(3)
		        return val or ""
		    return var.sub(rep, v)

		services = doc.get("services") or {}
		def svc(name):
		    return services.get(name) or {}
		def cmd(s):
		    c = s.get("command")
		    if c is None:
		        return []
		    return c.split() if isinstance(c, str) else [str(x) for x in c]
		def raw_env(s):
		    e = s.get("environment") or {}
		    if isinstance(e, list):
		        e = dict(x.split("=", 1) if "=" in x else (x, None) for x in e)
		    return {k: (None if v is None else str(v) if not isinstance(v, bool) else str(v).lower()) for k, v in e.items()}
		def env(s):
		    return {k: interp(v) for k, v in raw_env(s).items()}
		def ports(s):
		    res = set()
		    for p in s.get("ports") or []:
		        if isinstance(p, dict):
		            res.add("%s:%s" % (p.get("published"), p.get("target")))
		        else:
		            parts = str(p).split("/")[0].split(":")
		            res.add(":".join(parts[-2:]))
		    return res
		def depends(s):
		    d = s.get("depends_on") or {}
		    if isinstance(d, list):
		        return {k: "service_started" for k in d}
		    return {k: (v or {}).get("condition", "service_started") for k, v in d.items()}
		def volumes(s):
		    res = {}
		    for v in s.get("volumes") or []:
		        if isinstance(v, dict):
		            res[v.get("source")] = v.get("target")
		        else:
		            parts = str(v).split(":")
		            res[parts[0]] = parts[1] if len(parts) > 1 else None
		    return res
		def health(s):
		    t = (s.get("healthcheck") or {}).get("test")
		    return " ".join(t) if isinstance(t, list) else str(t or "")
		def image(s):
		    return str(s.get("image") or "")
		def build(s):
		    b = s.get("build")
		    if isinstance(b, str):
		        b = {"context": b}
		    if not b:
		        return None
		    ctx = b.get("context", ".")
		    ctx = os.path.realpath(ctx if os.path.isabs(ctx) else os.path.join(root, ctx))
		    return (ctx, b.get("dockerfile") or "Dockerfile")

		check("version" not in doc, "no top-level version: key (Compose spec)")
		expected = ["redis", "postgres", "migrate", "api", "worker", "mailpit"]
		check(sorted(services) == sorted(expected), "services are exactly %s (got %s)" % (", ".join(expected), ", ".join(services)))
		if mode == "raw":
		    check("x-gateway" in doc, "x-gateway anchor holds the shared gateway settings")
		named = set((doc.get("volumes") or {}).keys())
		for name, svcs in services.items():
		    for dep in depends(svcs or {}):
		        check(dep in services, "%s depends on existing service %s" % (name, dep))

		r = svc("redis")
		check(image(r).startswith("redis:7."), "redis: image redis:7.x (%s)" % image(r))
		c = " ".join(cmd(r))
		for flag in ("--appendonly yes", "--appendfsync everysec", "--maxmemory-policy noeviction"):
		    check(flag in c, "redis: command has %s" % flag)
		check("redis-cli ping" in health(r), "redis: healthcheck redis-cli ping")
		rv = [k for k, t in volumes(r).items() if t == "/data"]
		check(bool(rv) and rv[0] in named, "redis: named volume on /data")

		p = svc("postgres")
		check(image(p).startswith("postgres:16."), "postgres: image postgres:16.x (%s)" % image(p))
		pe = env(p)
		check(all(pe.get(k) == "gateway" for k in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")), "postgres: POSTGRES_USER/PASSWORD/DB gateway")
		check("pg_isready" in health(p), "postgres: healthcheck pg_isready")
		pv = [k for k, t in volumes(p).items() if t == "/var/lib/postgresql/data"]
		check(bool(pv) and pv[0] in named, "postgres: named volume on /var/lib/postgresql/data")

		gateways = ("migrate", "api", "worker")
		images = {image(svc(n)) for n in gateways}
		builds = {build(svc(n)) for n in gateways}
		check(len(images) == 1 and "" not in images, "migrate/api/worker share one image name (%s)" % ", ".join(sorted(images)))
		check(builds == {(os.path.realpath(root), "Dockerfile")}, "migrate/api/worker build ./Dockerfile from the repository root")
		for n in gateways:
		    check(cmd(svc(n)) == [n], "%s: command [%s]" % (n, n))
		    e = env(svc(n))
		    check(e.get("REDIS_URL") == "redis://redis:6379/0", "%s: REDIS_URL=redis://redis:6379/0" % n)
		    check(e.get("DATABASE_URL") == "postgres://gateway:gateway@postgres:5432/gateway?sslmode=disable", "%s: DATABASE_URL is the compose PostgreSQL" % n)
		    check(e.get("LOG_FORMAT") == "json", "%s: LOG_FORMAT=json" % n)
		    if settings:
		        unknown = sorted(k for k in e if k not in settings)
		        check(not unknown, "%s: every environment name is a gateway setting%s" % (n, (" (unknown: %s)" % ", ".join(unknown)) if unknown else ""))
		    raw = raw_env(svc(n))
		    for k in ("STRIPE_WEBHOOK_SECRET", "TWILIO_AUTH_TOKEN", "OPS_PASSWORD"):
		        if k in raw:
		            if mode == "raw":
		                check(str(raw[k]).startswith("${"), "%s: %s comes from the host environment, not the file" % (n, k))
		            else:
		                check(not raw[k], "%s: %s is empty unless the host sets it" % (n, k))
		    # for step 4: the environment, with compose host names made
		    # unresolvable so that nothing here is ever contacted
		    with open(os.path.join(out, "env-" + n), "w") as f:
		        for k, v in sorted(e.items()):
		            if v is None:
		                continue
		            try:
		                u = urlsplit(v)
		                if u.scheme and u.hostname in services:
		                    user, at, hostport = u.netloc.rpartition("@")
		                    hostport = hostport.replace(u.hostname, u.hostname + ".invalid", 1)
		                    v = urlunsplit(u._replace(netloc=user + at + hostport))
		            except ValueError:
		                pass
		            f.write("%s=%s\0" % (k, v))

		m = svc("migrate")
		check(str(m.get("restart", "no")) in ("no", "False", "false"), 'migrate: restart "no"')
		check(depends(m).get("postgres") == "service_healthy", "migrate: waits for postgres healthy")

		a = svc("api")
		ae = env(a)
		check("8080:8080" in ports(a), "api: ports 8080:8080")
		check(ae.get("MIGRATE") == "false", "api: MIGRATE=false")
		check(depends(a).get("redis") == "service_healthy", "api: waits for redis healthy")
		check(depends(a).get("migrate") == "service_completed_successfully", "api: waits for migrate to succeed")
		for k in ("STRIPE_WEBHOOK_SECRET", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL", "OPS_USERNAME", "OPS_PASSWORD"):
		    check(k in ae, "api: sets %s" % k)

		w = svc("worker")
		we = env(w)
		check(str((w.get("deploy") or {}).get("replicas")) == "2", "worker: deploy.replicas 2")
		check(we.get("MIGRATE") == "false", "worker: MIGRATE=false")
		check(we.get("SMTP_URL") == "smtp://mailpit:1025", "worker: SMTP_URL=smtp://mailpit:1025")
		check(depends(w).get("redis") == "service_healthy", "worker: waits for redis healthy")
		check(depends(w).get("migrate") == "service_completed_successfully", "worker: waits for migrate to succeed")
		for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "SUPPORT_EMAIL", "PUBLIC_BASE_URL"):
		    check(k in we, "worker: sets %s" % k)

		# The standalone asynqmon UI has no authentication and can delete and
		# run tasks; the api serves the same UI at /ops/ behind basic auth.
		check("asynqmon" not in services, "no standalone asynqmon (unauthenticated, writable UI; the api serves /ops/)")

		mp = svc("mailpit")
		check(image(mp).startswith("axllent/mailpit"), "mailpit: image axllent/mailpit")
		check({"8025:8025", "1025:1025"} <= ports(mp), "mailpit: ports 8025 and 1025")

		# Every image pinned to a version: a digest, or a tag naming a release
		# (major.minor.patch; PostgreSQL's releases are major.minor). Not :latest,
		# not a floating major or minor like redis:7-alpine. An image the file
		# builds itself (build:) is named freely.
		two_part = {"postgres"}
		def pinned(ref):
		    if "@sha256:" in ref:
		        return True
		    name, _, tag = ref.rpartition(":")
		    if not name or "/" in tag:
		        return False  # no tag: :latest
		    m = re.match(r"v?(\d+(?:\.\d+)*)(?:$|[-_])", tag)
		    if not m:
		        return False
		    parts = len(m.group(1).split("."))
		    return parts >= 3 or (parts == 2 and name.split("/")[-1] in two_part)
		for name, sv in services.items():
		    sv = sv or {}
		    if build(sv):
		        continue
		    check(pinned(image(sv)), "%s: image pinned to a version (%s)" % (name, image(sv) or "no image"))

		# Published ports: the api's webhook port on every interface, everything
		# else on loopback only (or not published).
		def bindings(s):
		    res = []  # (host_ip, published, target)
		    for p in s.get("ports") or []:
		        if isinstance(p, dict):
		            res.append((str(p.get("host_ip") or ""), str(p.get("published") or ""), str(p.get("target"))))
		            continue
		        p = str(p).split("/")[0]
		        ip = ""
		        if p.startswith("["):
		            ip, _, p = p[1:].partition("]:")
		        parts = p.split(":")
		        if len(parts) == 3:
		            ip = parts[0]
		        res.append((ip, parts[-2] if len(parts) >= 2 else "", parts[-1]))
		    return res
		loopback = {"127.0.0.1", "::1", "localhost"}
		for name, sv in services.items():
		    sv = sv or {}
		    check(str(sv.get("network_mode") or "") != "host", "%s: not network_mode host" % name)
		    for ip, pub, tgt in bindings(sv):
		        where = "%s:%s" % (ip or "*", pub or "(random)")
		        if name == "api" and tgt == "8080" and pub == "8080":
		            check(ip in ("", "0.0.0.0", "::"), "api: webhook port 8080 published on every interface")
		        else:
		            check(ip in loopback, "%s: port %s published on %s: loopback only" % (name, tgt, where))
		check(any(t == "8080" and p == "8080" for _, p, t in bindings(a)), "api: webhook port published as 8080:8080")

		# Every setting the gateway reads is in every gateway container's
		# environment (x-gateway-env), and the contract's planned ones are passed
		# through too; all but the compose-fixed ones from the host environment.
		read = sorted(set(os.environ.get("GATEWAY_READ_SETTINGS", "").split()))
		planned = sorted(set(os.environ.get("GATEWAY_PLANNED_SETTINGS", "").split()))
		check(len(read) >= 10, "settings read from config/ (%d found)" % len(read))
		fixed = {"REDIS_URL", "DATABASE_URL", "MIGRATE", "HTTP_ADDR", "LOG_FORMAT"}
		if mode == "raw":
		    xe = doc.get("x-gateway-env") or {}
		    missing = [k for k in read + planned if k not in xe]
		    check(not missing, "x-gateway-env has every setting%s" % ((" (missing: %s)" % ", ".join(missing)) if missing else ""))
		    notpassed = [k for k in xe if k not in fixed and not re.match(r"^\$\{%s(:?-[^}]*)?\}$" % re.escape(k), str(xe[k]))]
		    check(not notpassed, "x-gateway-env passes every setting but %s through as ${NAME:-default}%s"
		          % ("/".join(sorted(fixed)), (" (not: %s)" % ", ".join(notpassed)) if notpassed else ""))
		    loud = [k for k in planned if k in xe and str(xe[k]) != "${%s:-}" % k]
		    check(not loud, "not-yet-implemented settings (%s) pass through empty by default%s"
		          % (", ".join(planned), (" (not: %s)" % ", ".join(loud)) if loud else ""))
		for n in gateways:
		    e = env(svc(n))
		    missing = [k for k in read + planned if k not in e]
		    check(not missing, "%s: environment has every gateway setting%s" % (n, (" (missing: %s)" % ", ".join(missing)) if missing else ""))

		# Go durations as compose writes them (40s, 1m30s, 500ms).
		def seconds(v):
		    v = str(v or "").strip()
		    if re.fullmatch(r"\d+(\.\d+)?", v):  # a number: compose's normalized nanoseconds
		        return float(v) / 1e9 if float(v) > 1e6 else float(v)
		    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
		    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)", v)
		    if not parts or "".join(a + b for a, b in parts) != v:
		        return None
		    return sum(float(a) * units[b] for a, b in parts)

		# api and worker: a healthcheck that runs the image's binary (no shell in
		# it), with every timing set; its own bound is 3s, so timeout above that.
		bin_path = os.environ.get("GATEWAY_IMAGE_BIN", "")
		check(bool(bin_path), "Dockerfile ENTRYPOINT names the binary (%s)" % (bin_path or "none"))
		for n in ("api", "worker"):
		    hc = svc(n).get("healthcheck") or {}
		    t = hc.get("test")
		    t = [str(x) for x in t] if isinstance(t, list) else str(t or "").split()
		    check(t == ["CMD", bin_path, "healthcheck"], '%s: healthcheck test ["CMD", "%s", "healthcheck"] (got %s)' % (n, bin_path, t))
		    check(not hc.get("disable"), "%s: healthcheck not disabled" % n)
		    for k in ("interval", "timeout", "start_period"):
		        check(seconds(hc.get(k)) is not None, "%s: healthcheck %s set (%s)" % (n, k, hc.get(k)))
		    check(str(hc.get("retries", "")).isdigit() and int(hc["retries"]) >= 1, "%s: healthcheck retries set (%s)" % (n, hc.get("retries")))
		    to = seconds(hc.get("timeout"))
		    check(to is not None and to > 3, "%s: healthcheck timeout above the command's own 3s (%s)" % (n, hc.get("timeout")))

		# stop_grace_period above SHUTDOWN_TIMEOUT (compose's value, else the
		# gateway's default), with 5s to spare for closing after the drain.
		default = os.environ.get("GATEWAY_SHUTDOWN_DEFAULT", "")
		check(default.isdigit(), "SHUTDOWN_TIMEOUT default read from config/ (%ss)" % (default or "?"))
		for n in ("api", "worker"):
		    st = env(svc(n)).get("SHUTDOWN_TIMEOUT") or (default + "s" if default.isdigit() else "")
		    sd, gp = seconds(st), seconds(svc(n).get("stop_grace_period"))
		    check(sd is not None and gp is not None and gp >= sd + 5,
		          "%s: stop_grace_period %s at least 5s above SHUTDOWN_TIMEOUT %s" % (n, svc(n).get("stop_grace_period"), st or "?"))

		sys.exit(1 if fails else 0)
	EOF
		rc=$?
		set -e
		cat "$OUT/compose-checks.txt"
		passed=$((passed + $(grep -c '^ok ' "$OUT/compose-checks.txt" || true)))
		nfail=$(grep -c '^FAIL ' "$OUT/compose-checks.txt" || true)
		failed=$((failed + nfail))
		if [ $rc != 0 ] && [ "$nfail" = 0 ]; then bad "compose model check crashed (exit $rc)"; fi
	fi
fi

######################################################################
step "1b. .env.example and .gitignore"

if [ ! -f .env.example ]; then
	bad ".env.example missing"
elif ! have python3; then
	bad "python3 is needed to check .env.example"
else
	set +e
	python3 - .env.example docker-compose.yml >"$OUT/env-example-checks.txt" 2>&1 <<-'EOF'
		import os, re, sys
		path, compose = sys.argv[1:3]
		known = set(os.environ.get("GATEWAY_SETTINGS", "").split())
		fails = 0
		def check(cond, msg):
		    global fails
		    print(("ok   " if cond else "FAIL ") + msg)
		    fails += 0 if cond else 1

		# NAME=value lines, and "# NAME=value" for the ones docker-compose.yml
		# fixes itself (listed for completeness, commented out).
		entry = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
		lines = open(path).read().splitlines()
		entries = []  # (line number, name, value, commented, has a comment above)
		for i, line in enumerate(lines):
		    m = entry.match(line.strip())
		    if not m:
		        continue
		    # the nearest non-entry line above, across a group of entries
		    j = i - 1
		    while j >= 0 and entry.match(lines[j].strip()):
		        j -= 1
		    described = j >= 0 and lines[j].strip().startswith("#") and not lines[j].strip().startswith("##")
		    entries.append((i + 1, m.group(2), m.group(3).strip(), bool(m.group(1)), described))
		names = [e[1] for e in entries]
		unknown = sorted(set(n for n in names if n not in known))
		check(not unknown, ".env.example names only known settings%s" % ((" (unknown: %s)" % ", ".join(unknown)) if unknown else ""))
		missing = sorted(known - set(names))
		check(not missing, ".env.example lists every setting%s" % ((" (missing: %s)" % ", ".join(missing)) if missing else ""))
		dup = sorted(set(n for n in names if names.count(n) > 1))
		check(not dup, ".env.example lists each setting once%s" % ((" (twice: %s)" % ", ".join(dup)) if dup else ""))
		bare = [n for _, n, _, _, d in entries if not d]
		check(not bare, "every .env.example setting has a comment above it%s" % ((" (none: %s)" % ", ".join(bare)) if bare else ""))

		secret = re.compile(r"SECRET|TOKEN|PASSWORD|API_KEY")
		filled = [n for _, n, v, c, _ in entries if secret.search(n) and not c and v not in ("", '""', "''")]
		check(not filled, ".env.example leaves every secret empty%s" % ((" (set: %s)" % ", ".join(filled)) if filled else ""))
		text = open(path).read()
		looks = re.findall(r"\b(?:whsec|sk_live|sk_test|rk_live|rk_test)_[A-Za-z0-9]{3,}", text)
		check(not looks, ".env.example holds nothing that looks like a Stripe secret%s" % ((" (%s)" % ", ".join(looks)) if looks else ""))

		# An uncommented entry must be one compose passes through, or .env
		# would set something the containers never see.
		ctext = open(compose).read()
		ignored = [n for _, n, _, c, _ in entries if not c and not re.search(r"^\s+%s:\s*\$\{%s\b" % (n, n), ctext, re.M)]
		check(not ignored, "every uncommented .env.example setting is passed through by docker-compose.yml%s"
		      % ((" (not: %s)" % ", ".join(ignored)) if ignored else ""))
		sys.exit(1 if fails else 0)
	EOF
	rc=$?
	set -e
	cat "$OUT/env-example-checks.txt"
	passed=$((passed + $(grep -c '^ok ' "$OUT/env-example-checks.txt" || true)))
	nfail=$(grep -c '^FAIL ' "$OUT/env-example-checks.txt" || true)
	failed=$((failed + nfail))
	if [ $rc != 0 ] && [ "$nfail" = 0 ]; then bad ".env.example check crashed (exit $rc)"; fi
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# /ops/ and /metrics stay off the published webhook port by default.
	if grep -qE '^  OPS_ADDR: \$\{OPS_ADDR-:8081\}$' docker-compose.yml && grep -qF '"127.0.0.1:8081:8081"' docker-compose.yml; then
		ok "OPS_ADDR defaults to :8081, published on 127.0.0.1 only"
	else
		bad "OPS_ADDR must default to :8081 (published on 127.0.0.1 only): /ops/ and /metrics off the webhook port"
	fi
	if git check-ignore -q .env; then ok ".gitignore keeps .env out"; else bad ".env is not git-ignored"; fi
	if git check-ignore -q .env.example; then bad ".env.example is git-ignored"; else ok ".env.example is not ignored"; fi
	if git ls-files --error-unmatch .env >/dev/null 2>&1; then bad ".env is committed"; else ok ".env is not committed"; fi
elif grep -qxE '/?\.env' .gitignore 2>/dev/null; then
	ok ".gitignore lists .env"
else
	bad ".gitignore does not list .env"
fi

######################################################################
step "2. Dockerfile stages and flags"

df_has() {
	if grep -Eq -- "$1" Dockerfile; then ok "Dockerfile: $2"; else bad "Dockerfile: $2"; fi
}
df_has '^FROM (--platform=[^ ]+ )?golang:1\.26\.[0-9]+ AS build' "build stage FROM golang:1.26.x"
df_has '^FROM gcr\.io/distroless/static-debian12:nonroot' "final stage FROM gcr.io/distroless/static-debian12:nonroot"
df_has 'CGO_ENABLED=0' "CGO_ENABLED=0"
df_has 'go build -trimpath -ldflags "-s -w"' 'go build -trimpath -ldflags "-s -w"'
df_has '^USER (65532|nonroot)' "USER 65532 (non-root)"
# Every base image pinned: a digest, or a major.minor.patch tag.
while read -r ref; do
	case $ref in
	*@sha256:*) ok "Dockerfile: FROM $ref pinned by digest" ;;
	*)
		if [[ ${ref##*/} =~ :v?[0-9]+\.[0-9]+\.[0-9]+([-_.][A-Za-z0-9._-]*)?$ ]]; then
			ok "Dockerfile: FROM $ref pinned to a release"
		else
			bad "Dockerfile: FROM $ref is not pinned (a floating tag; use major.minor.patch or @sha256:)"
		fi
		;;
	esac
done < <(sed -nE 's/^FROM (--platform=[^ ]+ )?([^ ]+).*/\2/p' Dockerfile)
df_has '^EXPOSE 8080' "EXPOSE 8080"
df_has '^ENTRYPOINT \["/gateway"\]' 'ENTRYPOINT ["/gateway"]'
df_has '^CMD \["serve"\]' 'CMD ["serve"]'
df_has '^COPY .*--chown=(65532|nonroot)' "a directory handed to the non-root user (SQLite fallback)"
dl=$(grep -n 'go mod download' Dockerfile | head -1 | cut -d: -f1 || true)
cp_all=$(grep -nE '^COPY \. ' Dockerfile | head -1 | cut -d: -f1 || true)
if [ -n "$dl" ] && [ -n "$cp_all" ] && [ "$dl" -lt "$cp_all" ]; then
	ok "go mod download is its own layer, before COPY . ."
else
	bad "go mod download must run before COPY . . (own cached layer)"
fi
if grep -q '^HEALTHCHECK' Dockerfile; then
	bad "HEALTHCHECK in the image: it would mark a one-shot migrate unhealthy; compose sets one for api and worker"
else
	ok "no HEALTHCHECK in the image (compose runs \`gateway healthcheck\` for api and worker)"
fi
if have hadolint; then
	if hadolint Dockerfile; then ok "hadolint"; else bad "hadolint"; fi
fi

######################################################################
step "3. build stage as plain commands, on the .dockerignore'd context"

ctx=$OUT/context
if have python3; then
	if python3 - "$ROOT" "$ctx" "$OUT" <<-'EOF'; then ok "build context copied per .dockerignore to $ctx"; else bad "could not assemble the build context"; fi
		# Docker's .dockerignore rules (moby/patternmatcher): patterns are
		# relative to the context root, * and ? stop at /, ** crosses /, a
		# pattern matching a directory excludes what is under it, ! re-includes,
		# the last matching pattern wins.
		import os, re, shutil, sys
		root, dest, out = sys.argv[1:4]
		pats = []
		if os.path.exists(os.path.join(root, ".dockerignore")):
		    for line in open(os.path.join(root, ".dockerignore")):
		        line = line.strip()
		        if not line or line.startswith("#"):
		            continue
		        neg = line.startswith("!")
		        p = os.path.normpath(line[1:].strip() if neg else line).lstrip("/")
		        rx, i = "", 0
		        while i < len(p):
		            c = p[i]
		            if p.startswith("**", i):
		                i += 2
		                if p.startswith("/", i):
		                    i += 1
		                    rx += "(?:.*/)?"
		                else:
		                    rx += ".*"
		                continue
		            if c == "*":
		                rx += "[^/]*"
		            elif c == "?":
		                rx += "[^/]"
		            elif c == "[" and "]" in p[i:]:
		                j = p.index("]", i)
		                body = p[i + 1:j]
		                rx += "[" + ("^" + body[1:] if body.startswith("!") else body) + "]"
		                i = j
		            elif c == "\\" and i + 1 < len(p):
		                i += 1
		                rx += re.escape(p[i])
		            else:
		                rx += re.escape(c)
		            i += 1
		        pats.append((neg, re.compile("^" + rx + "$")))
		has_neg = any(n for n, _ in pats)

		def excluded(rel):
		    parts = rel.split("/")
		    res = False
		    for neg, rx in pats:
		        if any(rx.match("/".join(parts[:k])) for k in range(1, len(parts) + 1)):
		            res = not neg
		    return res

		outreal = os.path.realpath(out)
		n = size = 0
		for d, dirs, files in os.walk(root):
		    reld = os.path.relpath(d, root)
		    reld = "" if reld == "." else reld + "/"
		    keep = []
		    for x in dirs:
		        full = os.path.join(d, x)
		        if os.path.realpath(full) == outreal:
		            continue
		        if excluded(reld + x) and not has_neg:
		            continue
		        keep.append(x)
		    dirs[:] = keep
		    for f in files:
		        rel = reld + f
		        if excluded(rel):
		            continue
		        os.makedirs(os.path.join(dest, reld), exist_ok=True)
		        shutil.copy2(os.path.join(root, rel), os.path.join(dest, rel), follow_symlinks=False)
		        n += 1
		        size += os.lstat(os.path.join(dest, rel)).st_size
		print("note context: %d files, %.1f KiB" % (n, size / 1024))
	EOF
	for gone in .git bin data .env; do
		if [ -e "$ROOT/$gone" ]; then
			if [ -e "$ctx/$gone" ]; then bad "context contains $gone"; else ok "context leaves out $gone"; fi
		fi
	done
	for need in go.mod go.sum cmd/gateway; do
		if [ -e "$ctx/$need" ]; then ok "context has $need"; else bad "context lacks $need"; fi
	done
else
	note "python3 missing: building from the work tree, .dockerignore not applied"
	ctx=$ROOT
fi

echo '$ go mod download'
if (cd "$ctx" && go mod download); then ok "go mod download (from go.mod + go.sum alone)"; else bad "go mod download"; fi
echo "\$ CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w\" -o $BIN ./cmd/gateway"
if (cd "$ctx" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN" ./cmd/gateway); then
	ok "build stage command succeeds ($(du -h "$BIN" | cut -f1))"
else
	bad "build stage command failed"
fi

if [ -x "$BIN" ]; then
	if have file; then
		f=$(file -b "$BIN")
		echo "\$ file: $f"
		case $f in *"statically linked"*) ok "file: statically linked" ;; *) bad "file: not statically linked" ;; esac
		case $f in *"not stripped"*) bad "file: not stripped (-s)" ;; *stripped*) ok "file: stripped (-ldflags -s)" ;; esac
	fi
	if have ldd; then
		l=$(ldd "$BIN" 2>&1 || true)
		echo "\$ ldd: $l"
		case $l in *"not a dynamic executable"* | *"statically linked"*) ok "ldd: no shared libraries" ;; *) bad "ldd: dynamic" ;; esac
	fi
	m=$(go version -m "$BIN")
	if grep -q 'build[[:space:]]CGO_ENABLED=0' <<<"$m"; then ok "go version -m: CGO_ENABLED=0"; else bad "go version -m: CGO_ENABLED=0 missing"; fi
	if grep -q 'build[[:space:]]-trimpath=true' <<<"$m"; then ok "go version -m: -trimpath=true"; else bad "go version -m: -trimpath missing"; fi
	if grep -q 'modernc.org/sqlite' <<<"$m"; then ok "pure-Go SQLite (modernc.org/sqlite) compiled in"; else note "modernc.org/sqlite not in the binary"; fi
fi

######################################################################
step "4. the binary as uid $RUN_UID (the image runs as $NONROOT)"

if [ -x "$BIN" ]; then
	who=$(run_as_nonroot sh -c 'id -u' 2>&1 || true)
	echo "\$ id -u (as the image user): $who"
	if [ "$who" != 0 ] && [ -n "$who" ]; then ok "runs as non-root uid $who"; else bad "could not drop root"; fi

	set +e
	help=$(run_as_nonroot "$BIN" --help 2>&1)
	rc=$?
	set -e
	printf '%s\n' "$help" | sed 's/^/    /'
	if [ $rc = 0 ]; then ok "gateway --help exits 0 as non-root"; else bad "gateway --help exit $rc"; fi
	for c in serve api worker migrate healthcheck; do
		if grep -qw "$c" <<<"$help"; then ok "--help lists $c"; else bad "--help lacks $c"; fi
	done

	# `gateway healthcheck`, the compose healthcheck, as the image user:
	# exit 1 with nothing listening, then against a stand-in /readyz
	# answering 503 and 200.
	# a port nothing listens on (1, tcpmux, without python3)
	free_port() {
		if have python3; then
			python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
		else
			echo 1
		fi
	}
	port=$(free_port)
	set +e
	hc=$(run_as_nonroot timeout 20 env -i HTTP_ADDR=":$port" "$BIN" healthcheck 2>&1)
	rc=$?
	set -e
	echo "\$ HTTP_ADDR=:$port gateway healthcheck   # nothing listening"
	printf '%s\n' "$hc" | sed 's/^/    /'
	if [ $rc = 1 ] && grep -q "nothing answered at http://127.0.0.1:$port/readyz" <<<"$hc"; then
		ok "healthcheck as uid $RUN_UID, nothing listening: exit 1, says nothing answered"
	else
		bad "healthcheck as uid $RUN_UID, nothing listening: exit $rc"
	fi
	if have python3; then
		port=$(free_port)
		python3 - "$port" "$OUT/readyz-code" >"$OUT/readyz.log" 2>&1 <<-'EOF' &
			import http.server, sys
			port, code_file = int(sys.argv[1]), sys.argv[2]
			class H(http.server.BaseHTTPRequestHandler):
			    def do_GET(self):
			        code = int(open(code_file).read().strip())
			        body = b'{"status":"ready"}' if code == 200 else b'{"status":"unavailable","down":"redis"}'
			        self.send_response(code if self.path == "/readyz" else 404)
			        self.send_header("Content-Type", "application/json")
			        self.send_header("Content-Length", str(len(body)))
			        self.end_headers()
			        self.wfile.write(body)
			    def log_message(self, *a):
			        pass
			http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
		EOF
		stand_in=$!
		echo 503 >"$OUT/readyz-code"
		up=0
		for _ in $(seq 1 100); do
			if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$port" 2>/dev/null; then up=1; break; fi
			sleep 0.1
		done
		if [ $up = 1 ]; then
			for code in 503 200; do
				echo $code >"$OUT/readyz-code"
				set +e
				hc=$(run_as_nonroot timeout 20 env -i HTTP_ADDR="0.0.0.0:$port" "$BIN" healthcheck 2>&1)
				rc=$?
				set -e
				echo "\$ HTTP_ADDR=0.0.0.0:$port gateway healthcheck   # /readyz answers $code"
				printf '%s\n' "$hc" | sed 's/^/    /'
				if [ $code = 200 ]; then
					if [ $rc = 0 ]; then ok "healthcheck, /readyz 200: exit 0"; else bad "healthcheck, /readyz 200: exit $rc"; fi
				elif [ $rc = 1 ] && grep -q '503.*down: redis' <<<"$hc"; then
					ok "healthcheck, /readyz 503: exit 1, names the status and what is down"
				else
					bad "healthcheck, /readyz 503: exit $rc"
				fi
			done
		else
			bad "stand-in /readyz on 127.0.0.1:$port did not start: $(cat "$OUT/readyz.log")"
		fi
		kill "$stand_in" 2>/dev/null || true
		wait "$stand_in" 2>/dev/null || true
	else
		note "python3 missing: healthcheck run only against nothing"
	fi

	# The image: WORKDIR /app, /app/data owned by 65532. With DATABASE_URL
	# unset the gateway writes data/gateway.db there.
	app=$OUT/app
	mkdir -p "$app/data"
	[ "$(id -u)" != 0 ] || chown -R "$RUN_UID" "$app"
	set +e
	mig=$(cd "$app" && run_as_nonroot timeout 60 env -i HOME=/home/nonroot "$BIN" migrate 2>&1)
	rc=$?
	set -e
	printf '%s\n' "$mig" | tail -3 | sed 's/^/    /'
	if [ $rc = 0 ] && [ -s "$app/data/gateway.db" ]; then
		ok "DATABASE_URL unset: migrate as non-root writes /app/data/gateway.db"
	else
		bad "SQLite fallback as non-root (exit $rc)"
	fi

	# Each compose service's environment through the gateway's settings
	# check. Hosts are *.invalid, so the command then fails to connect; what
	# matters is that it got that far. Calibrated with one bad value first.
	if [ -f "$OUT/env-migrate" ]; then
		mapfile -d '' base <"$OUT/env-migrate"
		set +e
		cal=$(cd "$app" && run_as_nonroot timeout 30 env -i "${base[@]}" PAYMENT_HOLD=notaduration "$BIN" migrate 2>&1)
		set -e
		if grep -q 'PAYMENT_HOLD' <<<"$cal"; then
			ok "calibration: a bad PAYMENT_HOLD is reported by name"
			for s in migrate api worker; do
				mapfile -d '' vars <"$OUT/env-$s"
				set +e
				res=$(cd "$app" && run_as_nonroot timeout 30 env -i "${vars[@]}" "$BIN" migrate 2>&1)
				set -e
				names=$(printf '%s\n' "${vars[@]}" | cut -d= -f1 | paste -sd'|')
				if grep -qiE "invalid settings|^($names): " <<<"$res"; then
					bad "$s: compose environment rejected by the gateway:"
					printf '%s\n' "$res" | sed 's/^/    /'
				else
					ok "$s: compose environment passes the gateway's settings check ($(printf '%s' "$res" | tail -1 | cut -c1-90)...)"
				fi
			done
		else
			bad "calibration: a bad PAYMENT_HOLD was not reported; cannot check the compose environments"
			printf '%s\n' "$cal" | sed 's/^/    /'
		fi
	fi
else
	bad "no binary to run"
fi

######################################################################
if [ "${CHECK_DOCKER_ENGINE:-}" = 1 ]; then
	step "5. with a Docker engine"
	if docker info >/dev/null 2>&1; then
		if docker build -t reserveeasy/gateway:check .; then ok "docker build"; else bad "docker build"; fi
		if docker run --rm reserveeasy/gateway:check --help >/dev/null; then ok "docker run --help"; else bad "docker run --help"; fi
		u=$(docker image inspect -f '{{.Config.User}}' reserveeasy/gateway:check 2>/dev/null || true)
		if [ "$u" = "65532:65532" ]; then ok "image user $u"; else bad "image user '$u'"; fi
	else
		bad "CHECK_DOCKER_ENGINE=1 but no Docker engine answers"
	fi
fi

echo
note "not checked without a Docker engine: pulling the base images (that the pinned tags and"
note "digest exist), BuildKit's cache mount and COPY --chown, the containers starting, healthchecks"
note "as Docker runs them, depends_on ordering. With an engine: docker compose up --build"
note "(or CHECK_DOCKER_ENGINE=1)."
echo "check-docker: $passed passed, $failed failed"
[ "$failed" = 0 ]
