package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/reserveeasy/gateway/config"
)

// healthcheckTimeout bounds the whole check: the container runtime's own
// healthcheck timeout should be longer.
const healthcheckTimeout = 3 * time.Second

// runHealthcheck asks this gateway's own GET /readyz (on HTTP_ADDR, also
// when OPS_ADDR is set) and succeeds only on 200. It is for container
// healthchecks: the distroless image has no shell, curl or wget.
func runHealthcheck(ctx context.Context, e *env, _ []string) error {
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err // one line per bad setting, naming it
	}
	target := readyzURL(cfg)
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %v", err)
	}
	client := &http.Client{
		Transport: &http.Transport{
			Proxy: nil, // loopback: never through HTTP(S)_PROXY
			// It calls itself on loopback, under a certificate issued for
			// the public name: nothing to verify.
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // own loopback address
			DisableKeepAlives: true,
		},
		// /readyz never redirects; a redirect is an answer that is not 200.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		why := err
		var uerr *url.Error
		if errors.As(err, &uerr) {
			why = uerr.Err // without Go's `Get "...":` prefix
		}
		if errors.Is(err, context.DeadlineExceeded) {
			why = fmt.Errorf("no answer within %v", healthcheckTimeout)
		}
		return fmt.Errorf("healthcheck: nothing answered at %s: %v", target, why)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		fmt.Fprintf(e.stdout, "healthcheck: %s answered 200\n", target)
		return nil
	}
	msg := fmt.Sprintf("healthcheck: %s answered %s", target, resp.Status)
	var r struct {
		Down string `json:"down"`
	}
	if json.Unmarshal(body, &r) == nil && r.Down != "" {
		msg += fmt.Sprintf(" (down: %s)", oneLine(r.Down))
	}
	return errors.New(msg)
}

// readyzURL is this gateway's /readyz as seen from its own machine: the
// HTTP_ADDR port on loopback when HTTP_ADDR listens on every interface.
func readyzURL(cfg config.Config) string {
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil { // config.Load has checked it; keep the default port
		host, port = "", strings.TrimPrefix(config.DefaultHTTPAddr, ":")
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/readyz"
}

// oneLine keeps an answer's text to one short line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return s
}
