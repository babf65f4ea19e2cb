package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// healthcheck is `connector-mock healthcheck`: it asks the mock at the
// address the same flags and environment give (CONNECTOR_MOCK_ADDR,
// CONNECTOR_MOCK_TLS, …) for /healthz, and exits 0 when it answers ok, 1
// otherwise: the image's HEALTHCHECK, which has no curl (FROM scratch).
// An address on every interface (0.0.0.0, ::) is asked on loopback.
func healthcheck(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, os.LookupEnv, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "connector-mock healthcheck: %v\n", err)
		return 2
	}
	host, port, err := net.SplitHostPort(o.addr)
	if err != nil {
		fmt.Fprintf(stderr, "connector-mock healthcheck: --addr %q: %v\n", o.addr, err)
		return 2
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	client := &http.Client{Timeout: 3 * time.Second}
	if o.tls || o.tlsCert != "" {
		scheme = "https"
		// The check asks this very mock, on the address it listens on, for
		// a page that needs no token: it sends nothing secret, and whether
		// the certificate verifies changes nothing it decides.
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // see above
	}
	url := scheme + "://" + net.JoinHostPort(host, port) + "/healthz"
	rsp, err := client.Get(url)
	if err != nil {
		fmt.Fprintf(stderr, "connector-mock healthcheck: %s: %v\n", url, err)
		return 1
	}
	defer rsp.Body.Close()
	var h struct{ Status string }
	if err := json.NewDecoder(io.LimitReader(rsp.Body, 1<<10)).Decode(&h); err != nil || rsp.StatusCode != http.StatusOK || h.Status != "ok" {
		fmt.Fprintf(stderr, "connector-mock healthcheck: %s: %s\n", url, rsp.Status)
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok\n", url)
	return 0
}
