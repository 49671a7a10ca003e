#!/usr/bin/env bash
# check-docker.sh: check the container files (Dockerfile, .dockerignore,
# docker-compose.yml) on a machine WITHOUT a Docker engine.
#
#   1. docker-compose.yml parses (docker compose config, else PyYAML, else
#      go.yaml.in/yaml/v3 from the module cache, else a text check) and has
#      the expected services, images, commands, dependencies and settings;
#   2. the Dockerfile has the expected stages and build flags;
#   3. the Dockerfile's build step, run as a plain command on the build
#      context that .dockerignore leaves, gives a static binary;
#   4. that binary runs as uid 65532 (the image's USER): --help, the SQLite
#      fallback in the image's /app/data layout, and each compose service's
#      environment passes the gateway's settings check.
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

# The gateway's setting names, read from its config package: compose may set
# only these, and they are unset below so that compose's defaults are checked
# rather than this shell's values.
SETTINGS=$(find config -maxdepth 1 -name '*.go' ! -name '*_test.go' -exec grep -ohE '"[A-Z][A-Z0-9_]+"' {} + | tr -d '"' | sort -u | tr '\n' ' ' || true)
export GATEWAY_SETTINGS=$SETTINGS
clean_env=(env)
for v in $SETTINGS; do clean_env+=(-u "$v"); done

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
	for s in redis postgres migrate api worker asynqmon mailpit; do
		if grep -qx "$s" <<<"$names"; then ok "service $s"; else bad "service $s missing"; fi
	done
	for want in 'redis:7-alpine' '--appendonly' 'noeviction' 'postgres:16-alpine' 'pg_isready' \
		'service_completed_successfully' 'hibiken/asynqmon' '--redis-url=redis://redis:6379/0' \
		'axllent/mailpit' '"8080:8080"' '"8081:8080"' 'MIGRATE: "false"' 'smtp://mailpit:1025' 'x-gateway'; do
		if grep -qF -- "$want" docker-compose.yml; then ok "mentions $want"; else bad "does not mention $want"; fi
	done
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
		expected = ["redis", "postgres", "migrate", "api", "worker", "asynqmon", "mailpit"]
		check(sorted(services) == sorted(expected), "services are exactly %s (got %s)" % (", ".join(expected), ", ".join(services)))
		if mode == "raw":
		    check("x-gateway" in doc, "x-gateway anchor holds the shared gateway settings")
		named = set((doc.get("volumes") or {}).keys())
		for name, svcs in services.items():
		    for dep in depends(svcs or {}):
		        check(dep in services, "%s depends on existing service %s" % (name, dep))

		r = svc("redis")
		check(image(r) == "redis:7-alpine", "redis: image redis:7-alpine")
		c = " ".join(cmd(r))
		for flag in ("--appendonly yes", "--appendfsync everysec", "--maxmemory-policy noeviction"):
		    check(flag in c, "redis: command has %s" % flag)
		check("redis-cli ping" in health(r), "redis: healthcheck redis-cli ping")
		rv = [k for k, t in volumes(r).items() if t == "/data"]
		check(bool(rv) and rv[0] in named, "redis: named volume on /data")

		p = svc("postgres")
		check(image(p) == "postgres:16-alpine", "postgres: image postgres:16-alpine")
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

		q = svc("asynqmon")
		qc = cmd(q)
		check(image(q).startswith("hibiken/asynqmon"), "asynqmon: image hibiken/asynqmon")
		check("--redis-url=redis://redis:6379/0" in qc or "--redis-addr=redis:6379" in qc
		      or any(qc[i] == "--redis-url" and qc[i + 1] == "redis://redis:6379/0" for i in range(len(qc) - 1)),
		      "asynqmon: points at redis://redis:6379/0")
		check("8081:8080" in ports(q), "asynqmon: ports 8081:8080")

		mp = svc("mailpit")
		check(image(mp).startswith("axllent/mailpit"), "mailpit: image axllent/mailpit")
		check({"8025:8025", "1025:1025"} <= ports(mp), "mailpit: ports 8025 and 1025")

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
step "2. Dockerfile stages and flags"

df_has() {
	if grep -Eq -- "$1" Dockerfile; then ok "Dockerfile: $2"; else bad "Dockerfile: $2"; fi
}
df_has '^FROM (--platform=[^ ]+ )?golang:1\.26 AS build' "build stage FROM golang:1.26"
df_has '^FROM gcr\.io/distroless/static-debian12:nonroot' "final stage FROM gcr.io/distroless/static-debian12:nonroot"
df_has 'CGO_ENABLED=0' "CGO_ENABLED=0"
df_has 'go build -trimpath -ldflags "-s -w"' 'go build -trimpath -ldflags "-s -w"'
df_has '^USER (65532|nonroot)' "USER 65532 (non-root)"
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
	bad "HEALTHCHECK in a distroless image (no shell or curl to run it)"
else
	ok "no HEALTHCHECK (distroless has no shell or curl)"
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
	for c in serve api worker migrate; do
		if grep -qw "$c" <<<"$help"; then ok "--help lists $c"; else bad "--help lacks $c"; fi
	done

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
note "not checked without a Docker engine: pulling the base images, BuildKit's cache mount and"
note "COPY --chown, the containers starting, healthchecks, depends_on ordering, asynqmon's flags"
note "in the real image. With an engine: docker compose up --build (or CHECK_DOCKER_ENGINE=1)."
echo "check-docker: $passed passed, $failed failed"
[ "$failed" = 0 ]
