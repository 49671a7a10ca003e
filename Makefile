# ReserveEasy webhook gateway. `make run` needs nothing installed; `make test`
# needs Redis and PostgreSQL and starts throwaway ones when none answers.
GO       ?= go
BIN      ?= bin/gateway
FUZZTIME ?= 10s
export GOFLAGS ?= -buildvcs=false

.PHONY: build run demo screenshot docker-check test test-faults services lint monitoring fuzz bench bench-micro clean

# `make run` listens on this machine only unless HTTP_ADDR says otherwise.
# Without STRIPE_WEBHOOK_SECRET / TWILIO_AUTH_TOKEN / OPS_USERNAME it
# generates random ones once into data/dev-secrets.env (mode 0600) and
# prints them; `make demo` reads them from there.
run demo: export HTTP_ADDR ?= 127.0.0.1:8080

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/gateway

run: build
	./$(BIN) serve

demo: build
	./$(BIN) demo

# services makes sure a Redis and a PostgreSQL answer (see scripts/test-services.sh).
services:
	./scripts/test-services.sh

test: services lint
	$(GO) test -race -count=1 -timeout 15m ./...

lint: monitoring
	$(GO) vet ./...
	$(GO) vet -tags faults ./faults/
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# monitoring checks docs/prometheus/alerts.yml with promtool (installs Debian's
# prometheus package when missing; a missing promtool fails under CI=true).
# The dashboard's and the rules' queries are checked against what /metrics
# serves by TestMonitoringQueries in cmd/gateway (`make test`).
monitoring:
	./scripts/check-monitoring.sh

fuzz:
	$(GO) test ./verify -run='^$$' -fuzz='^FuzzTwilio$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./verify -run='^$$' -fuzz='^FuzzStripe$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./verify -run='^$$' -fuzz='^FuzzParseTwilioForm$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./verify -run='^$$' -fuzz='^FuzzDecodeStripeEvent$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./tasks -run='^$$' -fuzz='^FuzzDecodeStripeObject$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./jobs -run='^$$' -fuzz='^FuzzFormatPayload$$' -fuzztime=$(FUZZTIME)

# test-faults runs the fault tests (faults/, docs/RELIABILITY.md) against the
# real binary, with a Redis, a PostgreSQL cluster and Sentinels of their own
# (never the shared servers). FAULTS_EVENTS (events per case, default 300),
# FAULTS_SHORT=1 (the CI variant: cases a, c and f), FAULTS_OUT (a file for
# the table), FAULTS_RUN (a -run pattern).
FAULTS_RUN ?= .
test-faults:
	$(GO) test -tags faults -count=1 -timeout 90m -v -run '$(FAULTS_RUN)' ./faults/

# bench is the end-to-end benchmark (scripts/bench.sh, docs/BENCHMARKS.md): it
# starts its own Redis, PostgreSQL cluster, gateway, bare Echo ceiling and
# provider doubles, and kills them at the end. Not part of `make test`.
# BENCH_REQUESTS, BENCH_ROUNDS, BENCH_CONCURRENCY, BENCH_WORKER_EVENTS... scale it.
bench:
	./scripts/bench.sh

# bench-micro runs the Go micro-benchmarks with -benchmem (scripts/bench-micro.sh).
bench-micro:
	./scripts/bench-micro.sh

# docker-check checks the Dockerfile and docker-compose.yml without a Docker engine.
docker-check:
	./scripts/check-docker.sh

# screenshot renders /ops/ in headless Chromium into docs/ (installs Debian's chromium when missing).
screenshot:
	./scripts/screenshot-ops.sh

clean:
	rm -rf bin data
