//go:build faults

package faults

import (
	"bytes"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

var (
	gatewayBin string
	pgShared   *postgres // one cluster for every case; each case its own bookings
	live       sync.Map  // *exec.Cmd of the gateway processes running
	rowsMu     sync.Mutex
	rows       []string // the report's table rows, printed at the end
)

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "gw-faults-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		gatewayBin = filepath.Join(dir, "gateway")
		b := exec.Command("go", "build", "-trimpath", "-o", gatewayBin, "../cmd/gateway")
		b.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := b.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build gateway: %v\n%s", err, out)
			return 1
		}
		// An interrupted run (Ctrl-C, a CI timeout) still stops what it
		// started: the gateway processes and the PostgreSQL cluster.
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		go func() {
			<-sig
			live.Range(func(k, _ any) bool { _ = k.(*exec.Cmd).Process.Kill(); return true })
			if pgShared != nil {
				pgShared.destroy()
			}
			os.RemoveAll(dir)
			os.Exit(1)
		}()
		code := m.Run()
		if pgShared != nil {
			pgShared.destroy()
		}
		printTable()
		return code
	}()
	os.Exit(code)
}

func printTable() {
	rowsMu.Lock()
	defer rowsMu.Unlock()
	if len(rows) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("\n| case | sent | 200s | applied | lost | doubled rows | doubled SMS | doubled email (distinct Message-ID) | doubled email (same Message-ID) | seconds |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	fmt.Print(b.String())
	if f := os.Getenv("FAULTS_OUT"); f != "" {
		_ = os.WriteFile(f, []byte(b.String()), 0o644)
	}
}

// envInt reads a size from the environment.
func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

// short reports FAULTS_SHORT=1: the CI variant (cases a, c, f, few events).
func short() bool { return os.Getenv("FAULTS_SHORT") == "1" }

// events is how many events a case sends: FAULTS_EVENTS, default 300 (150
// with FAULTS_SHORT).
func events() int {
	if short() {
		return envInt("FAULTS_EVENTS", 150)
	}
	return envInt("FAULTS_EVENTS", 300)
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// poll calls cond every 250ms until it is true or d passed.
func poll(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
	}
}

// postgres is a cluster of the tests' own under a temporary directory.
type postgres struct {
	dir, data string
	port      int
	URL       string
	db        *sql.DB
}

const pgBin = "/usr/lib/postgresql/15/bin"

// asPostgres runs a PostgreSQL program as the postgres user when root.
func asPostgres(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(pgBin, name)}, args...)...)
	}
	return exec.Command(filepath.Join(pgBin, name), args...)
}

var pgMu sync.Mutex

func sharedPG(t *testing.T) *postgres {
	t.Helper()
	pgMu.Lock()
	defer pgMu.Unlock()
	if pgShared != nil {
		return pgShared
	}
	dir, err := os.MkdirTemp("", "gw-faults-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p := &postgres{dir: dir, data: filepath.Join(dir, "data"), port: freePort(t)}
	pgShared = p
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p.data, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(p.data, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := asPostgres("initdb", "-D", p.data, "-A", "trust", "-U", "postgres").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.Start(t)
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	if p.db, err = sql.Open("pgx", p.URL); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gatewayBin, "migrate")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+p.URL)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gateway migrate: %v\n%s", err, out)
	}
	return p
}

// Start starts the cluster (pg_ctl start -w).
func (p *postgres) Start(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", p.port, p.data)
	if out, err := asPostgres("pg_ctl", "-D", p.data, "-l", filepath.Join(p.data, "server.log"), "-w", "-t", "120",
		"-o", opts, "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.data, "server.log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the cluster with pg_ctl stop -m fast.
func (p *postgres) Stop(t testing.TB) {
	t.Helper()
	if out, err := asPostgres("pg_ctl", "-D", p.data, "-m", "fast", "-w", "-t", "120", "stop").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

func (p *postgres) destroy() {
	if p.db != nil {
		p.db.Close()
	}
	if _, err := os.Stat(filepath.Join(p.data, "postmaster.pid")); err == nil {
		_ = asPostgres("pg_ctl", "-D", p.data, "-m", "immediate", "-w", "stop").Run()
	}
	os.RemoveAll(p.dir)
}

// bookings creates n payment_pending bookings, each with its own phone and
// email, and returns their ids.
func (p *postgres) bookings(t testing.TB, n int) []int64 {
	t.Helper()
	rs, err := p.db.Query(`INSERT INTO bookings (customer_name, customer_phone, customer_email, status, deposit_amount, deposit_currency, created_at, updated_at)
		SELECT 'Fault Guest ' || g, '', '', 'payment_pending', 6000, 'usd', now(), now() FROM generate_series(1, $1) g RETURNING id`, n)
	if err != nil {
		t.Fatalf("create bookings: %v", err)
	}
	defer rs.Close()
	var ids []int64
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := p.db.Exec(`UPDATE bookings SET customer_phone = '+1555' || lpad(id::text, 7, '0'),
		customer_email = 'guest' || id || '@example.com' WHERE id = ANY($1)`, ids); err != nil {
		t.Fatalf("set contacts: %v", err)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// proc is one gateway process of a test, killed at the end if still running.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	mu   *sync.Mutex
	URL  string
	args []string
	env  []string
	done chan struct{}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// startGateway starts `gateway ARGS` with env on a port of its own and
// waits until /healthz answers.
func startGateway(t *testing.T, name string, env map[string]string, args ...string) *proc {
	t.Helper()
	port := freePort(t)
	p := &proc{name: name, log: &bytes.Buffer{}, mu: &sync.Mutex{}, URL: fmt.Sprintf("http://127.0.0.1:%d", port), args: args}
	p.env = append(os.Environ(), "HTTP_ADDR="+fmt.Sprintf("127.0.0.1:%d", port))
	for k, v := range env {
		p.env = append(p.env, k+"="+v)
	}
	p.start(t)
	t.Cleanup(func() {
		p.Kill(t)
		if t.Failed() || os.Getenv("FAULTS_LOGS") == "1" {
			t.Logf("%s log (tail):\n%s", p.name, p.tail(4000))
		}
	})
	return p
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	p.cmd = exec.Command(gatewayBin, p.args...)
	p.cmd.Env = p.env
	w := lockedWriter{p.mu, p.log}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	p.done = make(chan struct{})
	live.Store(p.cmd, true)
	go func(c *exec.Cmd, done chan struct{}) { _ = c.Wait(); live.Delete(c); close(done) }(p.cmd, p.done)
	poll(t, 60*time.Second, p.name+" to answer /healthz", func() bool {
		select {
		case <-p.done:
			t.Fatalf("%s exited at start:\n%s", p.name, p.tail(4000))
		default:
		}
		r, err := http.Get(p.URL + "/healthz")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == http.StatusOK
	})
}

// Restart starts the process again with the same arguments and settings.
func (p *proc) Restart(t *testing.T) {
	t.Helper()
	fmt.Fprintf(lockedWriter{p.mu, p.log}, "---- restart ----\n")
	p.start(t)
}

// Kill sends SIGKILL to the process's pid and waits for it.
func (p *proc) Kill(t testing.TB) { p.signal(t, syscall.SIGKILL, 10*time.Second) }

// Term sends SIGTERM and waits up to 60s for it to exit.
func (p *proc) Term(t testing.TB) { p.signal(t, syscall.SIGTERM, 60*time.Second) }

func (p *proc) signal(t testing.TB, sig syscall.Signal, wait time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(wait):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not exit %s after %v", p.name, wait, sig)
	}
}

func (p *proc) tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.log.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// Log is the process's whole output so far.
func (p *proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}
