# syntax=docker/dockerfile:1
#
# ReserveEasy webhook gateway: one static, non-root image for every command.
#
#   docker build -t reserveeasy/gateway .
#   docker run --rm -p 8080:8080 reserveeasy/gateway            # gateway serve
#   docker run --rm reserveeasy/gateway migrate                 # or api, worker
#
# scripts/check-docker.sh runs the build steps below as plain commands, for
# machines without a Docker engine.

############################ build ############################
# The build stage runs on the builder's own platform and cross-compiles (pure
# Go, no cgo), so `docker buildx build --platform linux/arm64,linux/amd64`
# needs no emulation.
# Pinned to a patch release (the toolchain that builds and tests it); bump it
# deliberately.
FROM --platform=$BUILDPLATFORM golang:1.26.8 AS build
WORKDIR /src

ENV CGO_ENABLED=0 \
    GOFLAGS=-buildvcs=false

# Dependencies first, as their own layer: it is rebuilt only when go.mod or
# go.sum change, not on every source edit.
COPY go.mod go.sum ./
RUN go mod download

COPY . .

ARG TARGETOS
ARG TARGETARCH
# The Go build cache is a BuildKit cache mount: fast rebuilds, nothing of it
# in the image.
RUN --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w" -o /out/gateway ./cmd/gateway

# With DATABASE_URL unset the gateway uses the SQLite file data/gateway.db
# (pure-Go modernc SQLite, compiled in) relative to the working directory.
# Prepare that directory here so the final stage can hand it to the non-root
# user; the final stage has no shell to mkdir or chown with.
RUN mkdir -p /out/data

############################ final ############################
# distroless static: no shell, no package manager; carries CA certificates
# (Stripe, Twilio, rediss://, smtps://), tzdata and /etc/passwd with the
# nonroot user (65532). Its tags float (distroless has no version tags), so
# it is pinned by digest; to update:
#   crane digest gcr.io/distroless/static-debian12:nonroot
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab

LABEL org.opencontainers.image.title="reserveeasy-gateway" \
      org.opencontainers.image.description="ReserveEasy webhook gateway: Twilio and Stripe webhooks to Asynq tasks"

COPY --from=build /out/gateway /gateway

# Writable only for the SQLite fallback (DATABASE_URL unset), e.g.
#   docker run -v gateway-data:/app/data reserveeasy/gateway
# With DATABASE_URL=postgres://... (as in docker-compose.yml) nothing is
# written and the root filesystem can be read-only.
WORKDIR /app
COPY --from=build --chown=65532:65532 /out/data /app/data

# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532

EXPOSE 8080

# No HEALTHCHECK here: the right one depends on the command (a one-shot
# migrate has none). The image has no shell, curl or wget, so a healthcheck
# runs the binary itself: ["/gateway", "healthcheck"] asks this container's
# GET /readyz and exits 0 only on 200 (docker-compose.yml does this for api
# and worker). Kubernetes can use httpGet probes on /healthz and /readyz.

ENTRYPOINT ["/gateway"]
CMD ["serve"]
