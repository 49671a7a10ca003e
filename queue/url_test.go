package queue

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// clientOptions is what the tests check of a client clientMaker made.
type clientOptions struct {
	Kind      string // "single", "failover" or "cluster"
	Addrs     []string
	Username  string
	Password  string
	DB        int
	TLS       bool
	FastDial  bool // DialTimeout is the receiver's short one
	FastRetry bool // MaxRetries is the receiver's one
}

func describe(t *testing.T, c redis.UniversalClient) clientOptions {
	t.Helper()
	defer c.Close()
	switch c := c.(type) {
	case *redis.Client:
		o := c.Options()
		kind, addrs := "single", []string{o.Addr}
		if o.Addr == "FailoverClient" {
			kind, addrs = "failover", nil
		}
		return clientOptions{Kind: kind, Addrs: addrs, Username: o.Username, Password: o.Password, DB: o.DB,
			TLS: o.TLSConfig != nil, FastDial: o.DialTimeout == dialTimeout, FastRetry: o.MaxRetries == maxRetries}
	case *redis.ClusterClient:
		o := c.Options()
		return clientOptions{Kind: "cluster", Addrs: o.Addrs, Username: o.Username, Password: o.Password,
			TLS: o.TLSConfig != nil, FastDial: o.DialTimeout == dialTimeout, FastRetry: o.MaxRetries == maxRetries}
	}
	t.Fatalf("unexpected client type %T", c)
	return clientOptions{}
}

// TestClientMaker parses every REDIS_URL form without connecting: making a
// go-redis client dials nothing.
func TestClientMaker(t *testing.T) {
	tests := []struct {
		name, url string
		want      clientOptions // of the slow client; the fast one differs in FastDial and FastRetry
	}{
		{"redis", "redis://:pw@cache.internal:6379/2",
			clientOptions{Kind: "single", Addrs: []string{"cache.internal:6379"}, Password: "pw", DB: 2}},
		{"redis default port", "redis://cache.internal",
			clientOptions{Kind: "single", Addrs: []string{"cache.internal:6379"}}},
		{"rediss with user", "rediss://app:pw@cache.example.com:6380/1",
			clientOptions{Kind: "single", Addrs: []string{"cache.example.com:6380"}, Username: "app", Password: "pw", DB: 1, TLS: true}},
		{"sentinel", "redis-sentinel://s1:26379,s2:26379?master_name=mymaster&db=3",
			clientOptions{Kind: "failover", DB: 3}},
		{"cluster", "redis-cluster://n1:7000?addr=n2:7000&addr=n3:7000",
			clientOptions{Kind: "cluster", Addrs: []string{"n1:7000", "n2:7000", "n3:7000"}}},
		{"cluster over TLS", "rediss-cluster://:pw@n1:7000?addr=n2:7000",
			clientOptions{Kind: "cluster", Addrs: []string{"n1:7000", "n2:7000"}, Password: "pw", TLS: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mk, err := clientMaker(tt.url)
			if err != nil {
				t.Fatalf("clientMaker(%q): %v", tt.url, err)
			}
			if diff := cmp.Diff(tt.want, describe(t, mk(false))); diff != "" {
				t.Errorf("slow client (-want +got):\n%s", diff)
			}
			fast := tt.want
			fast.FastDial, fast.FastRetry = true, true
			if diff := cmp.Diff(fast, describe(t, mk(true))); diff != "" {
				t.Errorf("fast client (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSentinelOptions checks what a sentinel URL configures: its hosts are
// the sentinels, master (asynq's spelling) works like master_name, and the
// URL's password is the sentinels' (the master's goes in ?password=).
func TestSentinelOptions(t *testing.T) {
	type opts struct {
		MasterName       string
		SentinelAddrs    []string
		SentinelPassword string
		Password         string
		DB               int
	}
	tests := []struct {
		name, url string
		want      opts
	}{
		{"master_name", "redis-sentinel://s1:26379,s2:26379,s3:26379?master_name=mymaster",
			opts{MasterName: "mymaster", SentinelAddrs: []string{"s1:26379", "s2:26379", "s3:26379"}}},
		{"master and db", "redis-sentinel://s1:26379?master=mymaster&db=4",
			opts{MasterName: "mymaster", SentinelAddrs: []string{"s1:26379"}, DB: 4}},
		{"passwords", "redis-sentinel://:sentinelpw@s1:26379,s2:26379?master_name=m&password=masterpw",
			opts{MasterName: "m", SentinelAddrs: []string{"s1:26379", "s2:26379"}, SentinelPassword: "sentinelpw", Password: "masterpw"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			u.Scheme = "redis" // as clientMaker hands it over
			o, err := sentinelOptions(u)
			if err != nil {
				t.Fatalf("sentinelOptions: %v", err)
			}
			got := opts{MasterName: o.MasterName, SentinelAddrs: o.SentinelAddrs,
				SentinelPassword: o.SentinelPassword, Password: o.Password, DB: o.DB}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientMakerRejects(t *testing.T) {
	tests := []struct{ name, url, want string }{
		{"http", "http://x", `unsupported scheme "http"`},
		{"sentinel without master", "redis-sentinel://s1:26379", "master_name"},
		{"bad database", "redis://h:6379/notanumber", "REDIS_URL"},
		{"unknown option", "redis-cluster://n1:7000?colour=blue", "REDIS_URL"},
		{"not a URL", "redis://h:6379/%zz", "REDIS_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := clientMaker(tt.url)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("clientMaker(%q) = %v, want an error containing %q", tt.url, err, tt.want)
			}
		})
	}
}
