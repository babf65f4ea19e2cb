// Package mocktest starts the connector group members mock in a Go test, in
// process, on a loopback port, and stops it when the test ends:
//
//	m := mocktest.Start(t)
//	c := m.Client()                       // a *client.Client of the mock
//	… run the code under test against m.URL or c …
//	adds := m.Requests(mocktest.Operation("addConnectorGroupMember"))
//
// The mock validates every request against the spec, keeps state, and can be
// made to misbehave (SetFaults); its journal says what the code under test
// sent. Every test gets a mock of its own, so tests can run in parallel.
package mocktest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/internal/selfsigned"
	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/faults"
	"github.com/connector-group/members-api/server/journal"
)

// Mock is a running mock server.
type Mock struct {
	// URL is the mock's base URL, such as http://127.0.0.1:34567
	// (https://127.0.0.1:34567 for StartTLS).
	URL string
	// Token is the bearer token the mock accepts ("" for any).
	Token string
	// CAPEM is the certificate authority a TLS mock's certificate chains
	// to, as PEM (nil for http): what a client trusts.
	CAPEM []byte

	server *server.Server
	http   *httptest.Server
}

// Option configures Start.
type Option func(*server.Config)

// WithToken makes the mock accept only token.
func WithToken(token string) Option { return func(c *server.Config) { c.Token = token } }

// WithFaults starts the mock misbehaving.
func WithFaults(f faults.Settings) Option { return func(c *server.Config) { c.Faults = f } }

// WithSeed makes the faults and latencies drawn repeat from run to run.
func WithSeed(seed uint64) Option { return func(c *server.Config) { c.Seed = seed } }

// WithLogger sends the mock's log lines to logger (by default they are dropped).
func WithLogger(logger *slog.Logger) Option { return func(c *server.Config) { c.Logger = logger } }

// WithConfig changes anything else of the server's configuration.
func WithConfig(change func(*server.Config)) Option { return Option(change) }

// Start starts a mock for t, stopped by t.Cleanup. It fails t if the mock
// cannot start.
func Start(t testing.TB, opts ...Option) *Mock {
	t.Helper()
	m, err := New(opts...)
	if err != nil {
		t.Fatalf("mocktest: %v", err)
	}
	t.Cleanup(m.Close)
	return m
}

// StartTLS is Start serving https (and HTTP/2), as connector-mock --tls
// does: with a certificate for localhost, the loopback addresses and the
// mock's AllowedHosts (WithConfig), signed by a CA made for it (CAPEM,
// CertPool); its Client trusts that CA.
func StartTLS(t testing.TB, opts ...Option) *Mock {
	t.Helper()
	m, err := newMock(true, opts)
	if err != nil {
		t.Fatalf("mocktest: %v", err)
	}
	t.Cleanup(m.Close)
	return m
}

// New starts a mock outside a test (in TestMain, or an example); Close
// stops it.
func New(opts ...Option) (*Mock, error) { return newMock(false, opts) }

func newMock(https bool, opts []Option) (*Mock, error) {
	var cfg server.Config
	for _, opt := range opts {
		opt(&cfg)
	}
	s, err := server.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting the mock: %w", err)
	}
	m := &Mock{Token: cfg.Token, server: s}
	if !https {
		m.http = httptest.NewServer(s)
		m.URL = m.http.URL
		return m, nil
	}
	certs, err := selfsigned.Make(cfg.AllowedHosts, time.Now())
	if err != nil {
		return nil, fmt.Errorf("starting the mock: %w", err)
	}
	m.http = httptest.NewUnstartedServer(s)
	m.http.EnableHTTP2 = true
	m.http.TLS = &tls.Config{Certificates: []tls.Certificate{certs.Server}, MinVersion: tls.VersionTLS12}
	m.http.StartTLS()
	m.URL, m.CAPEM = m.http.URL, certs.CAPEM
	return m, nil
}

// CertPool is a pool holding the CA of a TLS mock (empty for http): a
// client's RootCAs.
func (m *Mock) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(m.CAPEM)
	return pool
}

// Close stops the mock, waiting for the requests in flight.
func (m *Mock) Close() { m.http.Close() }

// Client is a client of the mock, with its token (or any, when the mock
// takes any) and opts.
func (m *Mock) Client(opts ...client.Option) *client.Client {
	token := m.Token
	if token == "" {
		token = "mocktest"
	}
	base := []client.Option{client.WithToken(token)}
	if m.CAPEM != nil {
		base = append(base, client.WithHTTPClient(&http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: m.CertPool()}, ForceAttemptHTTP2: true}}))
	}
	c, err := client.New(m.URL, append(base, opts...)...)
	if err != nil {
		panic(fmt.Sprintf("mocktest: a client of %s: %v", m.URL, err)) // an option the caller passed
	}
	return c
}

// Filter selects journal entries; combine them, all must hold.
type Filter func(*journal.Filter)

// Operation selects the requests for an operationId, such as
// "addConnectorGroupMember" ("" for requests that matched no operation).
func Operation(id string) Filter { return func(f *journal.Filter) { f.Operation = &id } }

// Application selects the requests about one application.
func Application(app uuid.UUID) Filter {
	return func(f *journal.Filter) { f.ApplicationID = app.String() }
}

// Status selects the requests answered with status.
func Status(status int) Filter { return func(f *journal.Filter) { f.Status = status } }

// Requests returns what the mock received and answered, newest first, that
// passes every filter.
func (m *Mock) Requests(filters ...Filter) []journal.Entry {
	var f journal.Filter
	for _, filter := range filters {
		filter(&f)
	}
	return m.server.Requests(f)
}

// Reset empties every connector group and the journal.
func (m *Mock) Reset() error { return m.server.Reset(context.Background(), nil) }

// SetFaults changes the misbehaviour from the next request on; it refuses
// settings that make no sense.
func (m *Mock) SetFaults(f faults.Settings) error { return m.server.SetFaults(f) }

// Server is the mock itself, for what this package does not wrap.
func (m *Mock) Server() *server.Server { return m.server }
