package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/connector-group/members-api/internal/selfsigned"
)

// startTLS serves the mock with the options args give on a loopback port,
// and returns the port.
func startTLS(t *testing.T, args ...string) string {
	t.Helper()
	o, err := parseFlags(args, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := build(ctx, o, logger) // the certificates are made here, before the port opens, as in run
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.serve(ctx, ln, o, logger) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		m.close(logger)
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// httpsClient trusts the CA file caFile and reaches every host name on
// 127.0.0.1, as a Compose network or /etc/hosts would.
func httpsClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if caFile != "" {
		ca, err := os.ReadFile(caFile)
		if err != nil {
			t.Fatal(err)
		}
		if !pool.AppendCertsFromPEM(ca) {
			t.Fatalf("%s holds no PEM certificate", caFile)
		}
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
	}}
}

// TestTLSMadeAtStart: --tls serves https and HTTP/2 with a certificate for
// localhost, the loopback addresses and the --allowed-hosts names, which a
// client trusting --tls-ca-out verifies; Location and @odata.nextLink carry
// https; another name, or a client without the CA, is refused.
func TestTLSMadeAtStart(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	port := startTLS(t, "--tls", "--tls-ca-out", ca, "--allowed-hosts", "mock,10.1.2.3")
	c := httpsClient(t, ca)
	base := "https://mock:" + port
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, base+"/beta/applications/0f8fad5b-d9cb-469f-a165-70867728950e/connectorGroup/members/$ref",
			strings.NewReader(`{"externalIp":"203.0.113.7","machineName":"tls","status":"active"}`))
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", "application/json")
		rsp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rsp.Body.Close()
		if rsp.StatusCode != http.StatusNoContent || rsp.ProtoMajor != 2 || !strings.HasPrefix(rsp.Header.Get("Location"), base+"/beta/applications/") {
			t.Fatalf("add over https: %s %s, Location %q", rsp.Proto, rsp.Status, rsp.Header.Get("Location"))
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/beta/applications/0f8fad5b-d9cb-469f-a165-70867728950e/connectorGroup/members?$top=1", nil)
	req.Header.Set("Authorization", "Bearer t")
	rsp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Next string `json:"@odata.nextLink"`
	}
	err = json.NewDecoder(rsp.Body).Decode(&page)
	rsp.Body.Close()
	if err != nil || !strings.HasPrefix(page.Next, base+"/beta/applications/") {
		t.Errorf("nextLink %q (%v), want one on %s", page.Next, err, base)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "10.1.2.3"} {
		if rsp, err := c.Get("https://" + net.JoinHostPort(host, port) + "/healthz"); err != nil {
			t.Errorf("%s: %v", host, err)
		} else {
			rsp.Body.Close()
		}
	}
	var unknown x509.HostnameError
	if _, err := c.Get("https://evil.example:" + port + "/healthz"); !errors.As(err, &unknown) {
		t.Errorf("a name the certificate does not have: %v, want a host name error", err)
	}
	var unknownCA x509.UnknownAuthorityError
	if _, err := httpsClient(t, "").Get(base + "/healthz"); !errors.As(err, &unknownCA) {
		t.Errorf("a client without the CA: %v, want an unknown authority", err)
	}

	// The healthcheck finds it by the same flags.
	var out, errOut bytes.Buffer
	if code := healthcheck([]string{"--tls", "--addr", "0.0.0.0:" + port}, &out, &errOut); code != 0 {
		t.Errorf("healthcheck: exit %d: %s%s", code, out.String(), errOut.String())
	}
	if code := healthcheck([]string{"--addr", "127.0.0.1:" + port}, &out, &errOut); code != 1 {
		t.Errorf("healthcheck over http to https: exit %d, want 1", code)
	}
}

// TestTLSGivenFiles: --tls-cert and --tls-key serve the files given (here
// a certificate for files.example, which a client trusting its CA reaches).
func TestTLSGivenFiles(t *testing.T) {
	dir := t.TempDir()
	made, err := selfsigned.Make([]string{"files.example"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(made.Server.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	var chain []byte
	for _, der := range made.Server.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	files := map[string][]byte{"cert.pem": chain, "key.pem": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), "ca.pem": made.CAPEM}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	port := startTLS(t, "--tls-cert", filepath.Join(dir, "cert.pem"), "--tls-key", filepath.Join(dir, "key.pem"), "--allowed-hosts", "files.example")
	rsp, err := httpsClient(t, filepath.Join(dir, "ca.pem")).Get("https://files.example:" + port + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	rsp.Body.Close()
	if rsp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %s", rsp.Status)
	}
	// A key that is not the certificate's stops the start, naming the flags.
	o, _ := parseFlags([]string{"--tls-cert", filepath.Join(dir, "cert.pem"), "--tls-key", filepath.Join(dir, "ca.pem")},
		func(string) (string, bool) { return "", false }, io.Discard)
	if _, _, err := tlsConfig(o, time.Now()); err == nil || !strings.Contains(err.Error(), "--tls-cert/--tls-key") {
		t.Errorf("a wrong key: %v", err)
	}
}
