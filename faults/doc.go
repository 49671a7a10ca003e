// Package faults holds `make test-faults`: the gateway's fault tests
// against the real binary (built once by TestMain) and servers the tests
// start themselves: redis-server with AOF (appendfsync always) on a port
// and directory of their own, a PostgreSQL 15 cluster of their own
// (initdb/pg_ctl as the postgres user, own port and socket directory under
// a temporary directory), Sentinels, and the provider doubles of
// loadgen/sinks answering with Twilio's and SMTP's latency. A sender that
// retries any non-2xx answer or timeout with backoff, like Stripe and
// Twilio, sends Stripe events about real bookings (one booking each); each
// case reports sent, 200s, applied, lost and doubled. See
// docs/RELIABILITY.md. The tests are under the build tag faults:
// `make test-faults` (FAULTS_EVENTS events per case, FAULTS_SHORT=1 for
// the CI variant).
package faults
