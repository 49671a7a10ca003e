package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server process of the test's own, on a free port with
// its own directory, killed by its pid at the end of the test. Tests that
// stop, pause or reconfigure a Redis use one, never the shared server.
type Server struct {
	Port int
	Dir  string
	cmd  *exec.Cmd
	args []string // redis-server's arguments, for Restart
}

// StartServer starts redis-server with no snapshots and args (more
// settings, as on its command line: "--appendonly", "yes") and waits until
// it answers PING.
func StartServer(tb testing.TB, args ...string) *Server {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Fatalf("redis-server not installed (make test installs it): %v", err)
	}
	s := &Server{Port: freePort(tb), Dir: tb.TempDir()}
	base := []string{"--port", fmt.Sprint(s.Port), "--bind", "127.0.0.1", "--dir", s.Dir, "--save", ""}
	s.args = append(base, args...)
	s.start(tb)
	tb.Cleanup(s.Kill)
	return s
}

func (s *Server) start(tb testing.TB) {
	tb.Helper()
	s.cmd = exec.Command("redis-server", s.args...)
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	s.poll(tb, "to answer PING", func(c *redis.Client) bool { return c.Ping(context.Background()).Err() == nil })
}

// Restart starts a killed server again on the same port, directory and
// settings (with AOF on, it loads what its AOF holds) and waits until it
// answers PING.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if s.cmd != nil {
		tb.Fatalf("redis-server on port %d is still running", s.Port)
	}
	s.start(tb)
}

// PID is the server's process id, 0 when it is not running.
func (s *Server) PID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// StartReplica starts a replica of primary and waits until its link to
// the primary is up.
func StartReplica(tb testing.TB, primary *Server, args ...string) *Server {
	tb.Helper()
	s := StartServer(tb, append([]string{"--replicaof", "127.0.0.1", fmt.Sprint(primary.Port)}, args...)...)
	s.poll(tb, "to sync with its primary", func(c *redis.Client) bool {
		info, err := c.Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	return s
}

// URL is the server's redis:// URL, database 0.
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.Port) }

// Pause stops the process (SIGSTOP): its connections stay open, it answers
// nothing, like a hung or partitioned server.
func (s *Server) Pause(tb testing.TB) { s.signal(tb, syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume(tb testing.TB) { s.signal(tb, syscall.SIGCONT) }

// Kill stops the server at once (SIGKILL to its pid).
func (s *Server) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

func (s *Server) signal(tb testing.TB, sig syscall.Signal) {
	tb.Helper()
	if s.cmd == nil || s.cmd.Process == nil {
		tb.Fatalf("redis-server on port %d is not running", s.Port)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		tb.Fatalf("signal redis-server on port %d: %v", s.Port, err)
	}
}

// poll checks cond every 20ms for up to 15 seconds.
func (s *Server) poll(tb testing.TB, what string, cond func(*redis.Client) bool) {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.Port), MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(15 * time.Second); !cond(c); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for redis-server on port %d %s", s.Port, what)
		}
	}
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartCluster starts a Redis Cluster of one primary holding every slot
// and one replica of it, and waits until the cluster is ok and the replica
// synced.
func StartCluster(tb testing.TB) (primary, replica *Server) {
	tb.Helper()
	args := []string{"--cluster-enabled", "yes", "--cluster-node-timeout", "60000"}
	primary, replica = StartServer(tb, args...), StartServer(tb, args...)
	ctx := context.Background()
	p := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", primary.Port)})
	defer p.Close()
	id, err := p.ClusterMyID(ctx).Result()
	if err == nil {
		err = p.Do(ctx, "cluster", "addslotsrange", 0, 16383).Err()
	}
	if err == nil {
		err = p.ClusterMeet(ctx, "127.0.0.1", fmt.Sprint(replica.Port)).Err()
	}
	if err != nil {
		tb.Fatalf("set up the cluster's primary: %v", err)
	}
	replica.poll(tb, "to join the cluster as a replica", func(c *redis.Client) bool {
		return c.ClusterReplicate(ctx, id).Err() == nil
	})
	replica.poll(tb, "to sync with its primary", func(c *redis.Client) bool {
		info, err := c.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	primary.poll(tb, "to report the cluster ok", func(c *redis.Client) bool {
		info, err := c.ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	})
	return primary, replica
}
