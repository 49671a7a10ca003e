package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reserveeasy/gateway/notifications/smtptest"
	"github.com/reserveeasy/gateway/queue/redistest"
)

// writeCert writes the self-signed certificate for 127.0.0.1 that
// smtptest.NewTLS makes, and its key, as PEM files, and returns their paths
// and the client configuration trusting it.
func writeCert(t *testing.T) (certFile, keyFile string, client *tls.Config) {
	t.Helper()
	server, client := smtptest.NewTLS(t)
	cert := server.Certificates[0]
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, client
}

func TestServesHTTPSDirectly(t *testing.T) {
	certFile, keyFile, clientTLS := writeCert(t)
	g := startGateway(t, []string{"api"}, map[string]string{
		"REDIS_URL": redistest.URL(t, redistest.DBCommand), "DATABASE_URL": sqliteURL(t),
		"TLS_CERT_FILE": certFile, "TLS_KEY_FILE": keyFile,
	})
	if !strings.Contains(g.stdout.String(), "https://"+g.addr+"/") { // the listener's host: HTTP_ADDR is 127.0.0.1:0
		t.Errorf("banner does not show https URLs:\n%s", g.stdout)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS}}
	resp, err := c.Get("https://" + g.addr + "/healthz")
	if err != nil {
		t.Fatalf("GET https /healthz: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Errorf("GET https /healthz = %d %s (tls %v)", resp.StatusCode, body, resp.TLS != nil)
	}
}

func TestUnreadableCertificateStopsTheStart(t *testing.T) {
	var out outputBuffer
	err := run(context.Background(), []string{"api"}, gatewayEnv(map[string]string{
		"REDIS_URL": redistest.URL(t, redistest.DBCommand), "DATABASE_URL": sqliteURL(t),
		"TLS_CERT_FILE": filepath.Join(t.TempDir(), "missing.pem"), "TLS_KEY_FILE": "missing.key",
	}), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "TLS_CERT_FILE") {
		t.Fatalf("err = %v, want one naming TLS_CERT_FILE", err)
	}
}
