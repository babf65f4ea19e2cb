// Command connector-mock serves the connector group members API from memory,
// validating every request against the embedded OpenAPI document.
//
// Every flag can also be set by an environment variable, CONNECTOR_MOCK_ and
// the flag's name in upper case with _ for - (for example
// CONNECTOR_MOCK_MAX_BODY); a flag on the command line wins.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/connector-group/members-api/internal/httplimits"
	appversion "github.com/connector-group/members-api/internal/version"
	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/faults"
	"github.com/connector-group/members-api/server/journal"
	"github.com/connector-group/members-api/server/store"
)

// options is what the command line and the environment configure.
type options struct {
	addr              string
	token             string
	state             string
	maxHeaderBytes    int
	maxConnections    int
	maxBody           int64
	logFormat         string
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	shutdownTimeout   time.Duration
	faults            faults.Settings
	seed              uint64
	journalSize       int
	implicitGroups    bool
	seedFile          string
	allowedHosts      string
	version           bool
	tls               bool
	corsOrigins       string
	corsAdmin         bool
	tlsCAOut          string
	tlsCert, tlsKey   string
	proxy, record     string
	proxyInvalid      bool
}

// hosts is --allowed-hosts as a list.
func (o options) hosts() []string { return splitList(o.allowedHosts) }

// splitList reads a comma-separated flag: blanks dropped.
func splitList(s string) []string {
	var out []string
	for _, h := range strings.Split(s, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "healthcheck" {
		return healthcheck(args[1:], stdout, stderr)
	}
	opts, err := parseFlags(args, os.LookupEnv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil && opts.version {
		fmt.Fprintln(stdout, appversion.String("connector-mock"))
		return 0
	}
	if err != nil {
		// One line naming the flag and the problem, and where the flags are
		// described: not the whole usage, which buries the error.
		fmt.Fprintf(stderr, "connector-mock: %v\nRun 'connector-mock --help' for the flags.\n", err)
		return 2
	}
	logs := newLogWriter(stderr, 100*time.Millisecond)
	defer logs.Close()
	logger, err := newLogger(opts.logFormat, logs)
	if err != nil {
		fmt.Fprintln(stderr, "connector-mock:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// The port is opened once the mock can answer: a readiness check that
	// connects is not fooled by a mock still loading its seed file.
	m, err := build(ctx, opts, logger)
	if err != nil {
		if ctx.Err() != nil {
			logger.Info("stopped before listening", slog.Any("reason", err))
			return 0
		}
		logger.Error("connector-mock failed", slog.Any("error", err))
		return 1
	}
	defer m.close(logger)
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		logger.Error("cannot listen", slog.Any("error", err))
		return 1
	}
	if err := m.serve(ctx, ln, opts, logger); err != nil {
		logger.Error("connector-mock failed", slog.Any("error", err))
		return 1
	}
	return 0
}

// parseFlags reads the flags, after the environment. The usage goes to
// help, and only when asked for (-h, --help); an error is returned, not
// printed.
func parseFlags(args []string, lookup func(string) (string, bool), help io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("connector-mock", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "`address` to listen on")
	fs.StringVar(&o.token, "token", "", "the only bearer `token` accepted (default: any non-empty token)")
	fs.StringVar(&o.state, "state", "", "keep the members in this `file` (bbolt), across restarts (default: in memory only)")
	fs.IntVar(&o.maxConnections, "max-connections", httplimits.DefaultMaxConnections, "client connections served at once; at the limit idle ones are closed first, then a new one is closed at once")
	fs.IntVar(&o.maxHeaderBytes, "max-header-bytes", httplimits.DefaultMaxHeaderBytes, "largest request header block in `bytes`")
	fs.Int64Var(&o.maxBody, "max-body", server.DefaultMaxBodyBytes, "largest request body in `bytes`")
	fs.StringVar(&o.logFormat, "log-format", "text", "log `format`: text or json")
	fs.DurationVar(&o.readHeaderTimeout, "read-header-timeout", httplimits.DefaultReadHeaderTimeout, "time allowed to read a request's headers")
	fs.DurationVar(&o.readTimeout, "read-timeout", httplimits.DefaultReadTimeout, "time allowed to read a whole request")
	fs.DurationVar(&o.writeTimeout, "write-timeout", httplimits.DefaultWriteTimeout, "time allowed to write a response")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", httplimits.DefaultIdleTimeout, "time a kept-alive connection may sit idle")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 15*time.Second, "time requests in flight get to finish on SIGINT or SIGTERM")
	fs.TextVar(&o.faults.Latency, "latency", faults.Latency{}, "delay every member operation by this `duration`, or a random one in a range (200ms, 50ms-300ms)")
	fs.Float64Var(&o.faults.FaultRate, "fault-rate", 0, "the `share` (0 to 1) of member operations that fail with a status from --fault-codes")
	fs.TextVar(&o.faults.FaultCodes, "fault-codes", faults.Codes(nil), "the `statuses` faults use, from 429, 500, 502, 503, 504 (default 429,503,504)")
	fs.DurationVar(&o.faults.RetryAfter, "retry-after", time.Second, "the Retry-After sent with a 429 or 503 fault, in whole seconds, at least 1")
	fs.TextVar(&o.faults.RateLimit, "rate-limit", faults.RateLimit{}, "at most `requests/window` member operations per bearer token (120/60s); past it, 429")
	fs.Uint64Var(&o.seed, "seed", 0, "draw faults and latencies from this `seed`, so a run can be repeated (default: a random one)")
	fs.IntVar(&o.journalSize, "journal-size", journal.DefaultSize, "how many requests the journal keeps (GET /_admin/requests); 0 turns it off")
	fs.StringVar(&o.seedFile, "seed-file", "", "load the members in this JSON or YAML `file` at start-up, each checked as a POST")
	fs.BoolVar(&o.implicitGroups, "implicit-groups", false, "make a connector group on first use at the service's paths too (connectorGroups/{id}/members),\n"+
		"as the seed page's path does for an application, instead of answering 404 for a group never created")
	fs.BoolVar(&o.version, "version", false, "print the release and the commit this binary was built from, and exit")
	fs.StringVar(&o.allowedHosts, "allowed-hosts", "", "Host `names` answered besides IP addresses, localhost and *.localhost, comma-separated\n"+
		"(a Compose service's name, say); * answers any, turning off the defence against DNS rebinding")
	fs.StringVar(&o.corsOrigins, "cors-origins", "", "page `origins` (scheme://host[:port], comma-separated) that may call the API from a browser (CORS);\n"+
		"none by default, since any page you open could otherwise read the mock")
	fs.BoolVar(&o.corsAdmin, "cors-admin", false, "let the --cors-origins call the admin API (/_admin/) too")
	fs.BoolVar(&o.tls, "tls", false, "serve https (HTTP/2 too) with a certificate made at start-up for localhost, 127.0.0.1, ::1 and\n"+
		"the --allowed-hosts names, signed by a CA made with it (write it with --tls-ca-out for clients to trust)")
	fs.StringVar(&o.tlsCAOut, "tls-ca-out", "", "with --tls, write the CA's certificate (PEM) to this `file`")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "serve https with this certificate `file` (PEM, the chain after it), with --tls-key")
	fs.StringVar(&o.tlsKey, "tls-key", "", "the private key `file` (PEM) of --tls-cert")
	fs.StringVar(&o.proxy, "proxy", "", "forward the API to the service at this base `URL` (https://graph.microsoft.com), checking requests and\n"+
		"answers against the spec and journalling every disagreement; the caller's Authorization goes to the service")
	fs.BoolVar(&o.proxyInvalid, "proxy-invalid", false, "with --proxy, forward a request the spec refuses too (to learn what the service does with it)")
	fs.StringVar(&o.record, "record", "", "with --proxy, write what the service's answers showed of its state to this seed `file` on a clean stop")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: connector-mock [flags]\n       connector-mock healthcheck [flags]   (exit 0 when the mock the flags describe answers /healthz)\n\n"+
			"Serves the connector group members API: in memory, or in a state file with --state.\n"+
			"Each flag may also be set as CONNECTOR_MOCK_<FLAG> (for example CONNECTOR_MOCK_MAX_BODY).\n\n")
		fs.PrintDefaults()
	}
	// The environment fills in what the command line leaves out.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "CONNECTOR_MOCK_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := lookup(name); ok {
			if err := f.Value.Set(v); err != nil {
				envErr = errors.Join(envErr, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	})
	if envErr != nil {
		return o, envErr
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(help)
			fs.Usage()
		}
		return o, saidInWords(fs, err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, o.check()
}

// flagHints say what a flag wants where the flag package says only "parse
// error": by flag, then by the kind of value.
var flagHints = map[string]string{
	"fault-rate":          "want a share from 0 to 1, such as 0.2 (not a percentage)",
	"seed":                "want a number, the seed of the random draws (a seed file is --seed-file)",
	"*flag.float64Value":  "want a number",
	"*flag.intValue":      "want a whole number",
	"*flag.int64Value":    "want a whole number",
	"*flag.uint64Value":   "want a whole number, 0 or more",
	"*flag.durationValue": "want a duration with its unit, such as 2s or 500ms",
	"*flag.boolValue":     "want true or false",
}

// flagParseError is how the flag package reports a value it cannot read.
var flagParseError = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-([a-z-]+): (?:parse error|value out of range)$`)

// saidInWords replaces the flag package's "parse error" with what the flag wants.
func saidInWords(fs *flag.FlagSet, err error) error {
	m := flagParseError.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	hint, ok := flagHints[m[2]]
	if f := fs.Lookup(m[2]); !ok && f != nil {
		hint, ok = flagHints[fmt.Sprintf("%T", f.Value)]
	}
	if !ok {
		return err
	}
	return fmt.Errorf("--%s %q: %s", m[2], m[1], hint)
}

// check refuses values that make no sense, naming every such flag.
func (o options) check() error {
	var problems []error
	if o.maxBody <= 0 {
		problems = append(problems, errors.New("--max-body must be positive"))
	}
	if o.maxHeaderBytes <= 0 {
		problems = append(problems, errors.New("--max-header-bytes must be positive"))
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"--read-header-timeout", o.readHeaderTimeout}, {"--read-timeout", o.readTimeout},
		{"--write-timeout", o.writeTimeout}, {"--idle-timeout", o.idleTimeout}, {"--shutdown-timeout", o.shutdownTimeout},
	} {
		if d.value < 0 {
			problems = append(problems, fmt.Errorf("%s must not be negative (0 turns it off), not %s", d.name, d.value))
		}
	}
	if o.maxConnections < 1 {
		problems = append(problems, fmt.Errorf("--max-connections must be 1 or more, not %d", o.maxConnections))
	}
	if o.journalSize < 0 {
		problems = append(problems, fmt.Errorf("--journal-size must not be negative (0 turns the journal off), not %d", o.journalSize))
	}
	if err := o.faults.Check(); err != nil {
		problems = append(problems, fmt.Errorf("the fault flags: %w", err))
	}
	for _, h := range o.hosts() {
		if h != "*" && strings.ContainsAny(h, "/:@ \t") {
			problems = append(problems, fmt.Errorf("--allowed-hosts: %q is not a host name (give names without a port or scheme, or *)", h))
		}
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		problems = append(problems, errors.New("--tls-cert and --tls-key go together: give both, or neither"))
	}
	if o.tlsCert != "" && (o.tls || o.tlsCAOut != "") {
		problems = append(problems, errors.New("--tls-cert serves your certificate; --tls and --tls-ca-out make one: give one or the other"))
	}
	for _, origin := range splitList(o.corsOrigins) {
		if err := server.CheckCORSOrigin(origin); err != nil {
			problems = append(problems, fmt.Errorf("--cors-origins: %w", err))
		}
	}
	if o.corsAdmin && len(splitList(o.corsOrigins)) == 0 {
		problems = append(problems, errors.New("--cors-admin lets the --cors-origins call the admin API: give --cors-origins too"))
	}
	if (o.record != "" || o.proxyInvalid) && o.proxy == "" {
		problems = append(problems, errors.New("--record and --proxy-invalid work on what --proxy forwards: give --proxy too"))
	}
	if o.tlsCAOut != "" && !o.tls {
		problems = append(problems, errors.New("--tls-ca-out writes the CA that --tls makes: give --tls too"))
	}
	if o.token != strings.TrimSpace(o.token) {
		// Never print the token itself: it is a secret.
		problems = append(problems, errors.New("--token begins or ends with white space, which no Authorization header can carry"))
	}
	return errors.Join(problems...)
}

func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

// mock is a mock ready to serve: its handler, its store to close after, and
// its TLS configuration (nil for http) with where its CA was written.
type mock struct {
	handler *server.Server
	store   store.Store
	tls     *tls.Config
	caPath  string
	record  string // --record: where the proxied answers' state goes on a clean stop
}

// build opens the store (and the state file), seeds it, and makes the
// handler. Seeding stops when ctx ends.
func build(ctx context.Context, o options, logger *slog.Logger) (m *mock, err error) {
	cfg := server.Config{Token: o.token, MaxBodyBytes: o.maxBody, Logger: logger, Faults: o.faults, Seed: o.seed,
		JournalSize: o.journalSize, Store: store.NewMemory(), AllowedHosts: o.hosts(), ImplicitGroups: o.implicitGroups,
		CORSOrigins: splitList(o.corsOrigins), CORSAdmin: o.corsAdmin, Proxy: o.proxy, ProxyInvalid: o.proxyInvalid}
	if o.journalSize == 0 {
		cfg.JournalSize = -1
	}
	if o.state != "" {
		members, err := store.OpenDurable(o.state)
		if err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				_ = members.Close()
			}
		}()
		cfg.Store = members
	}
	if o.seedFile != "" {
		logger.Info("seeding", slog.String("file", o.seedFile)) // a big file takes a while: say why the port is not open yet
		result, err := server.Seed(ctx, cfg.Store, o.seedFile)
		if err != nil {
			return nil, err
		}
		logger.Info("seeded", slog.String("file", o.seedFile), slog.Int("registered", result.Registered), slog.Int("groups", result.Groups),
			slog.Int("assigned", result.Assigned), slog.Int("added", result.Added), slog.Int("already_there", result.AlreadyThere))
	}
	handler, err := server.New(cfg)
	if err != nil {
		return nil, err
	}
	// Made before the port opens, so a client that waits for the port finds
	// the CA file written.
	tlsCfg, caPath, err := tlsConfig(o, time.Now())
	if err != nil {
		return nil, err
	}
	return &mock{handler: handler, store: cfg.Store, tls: tlsCfg, caPath: caPath, record: o.record}, nil
}

// close closes a durable store, after the requests in flight have finished with it.
func (m *mock) close(logger *slog.Logger) {
	if d, ok := m.store.(*store.Durable); ok {
		if err := d.Close(); err != nil && err != d.Err() { // a failure is said once, when it happens
			logger.Error("closing the state file", slog.Any("error", err))
		}
	}
}

// serve builds the mock and runs it on ln until ctx ends (for tests that
// listen first).
func serve(ctx context.Context, ln net.Listener, o options, logger *slog.Logger) error {
	m, err := build(ctx, o, logger)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer m.close(logger)
	return m.serve(ctx, ln, o, logger)
}

// serve runs the mock on ln until ctx ends, then stops accepting and lets
// requests in flight finish.
func (m *mock) serve(ctx context.Context, ln net.Listener, o options, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           m.handler,
		ReadHeaderTimeout: o.readHeaderTimeout,
		ReadTimeout:       o.readTimeout,
		WriteTimeout:      o.writeTimeout,
		IdleTimeout:       o.idleTimeout,
		MaxHeaderBytes:    o.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		// OPTIONS * comes to the mock like any request (a request-id, the
		// journal, an answer the spec has) instead of net/http's bare 200.
		DisableGeneralOptionsHandler: true,
	}
	srv.TLSConfig = m.tls
	// At the limit, idle keep-alive connections make room first: turning
	// keep-alives off closes them, and they are turned back on at once.
	makeRoom := func() { srv.SetKeepAlivesEnabled(false); srv.SetKeepAlivesEnabled(true) }
	ln = httplimits.LimitListener(ln, o.maxConnections, makeRoom, m.handler.Connections())
	base := baseURL(ln.Addr(), m.tls != nil)
	attrs := []any{slog.String("addr", base), slog.String("docs", base+"/docs"), slog.String("admin", base+"/_admin/"),
		slog.Bool("token_required", o.token != ""), slog.String("state", stateDescription(o.state))}
	switch {
	case m.caPath != "":
		attrs = append(attrs, slog.String("tls_ca", m.caPath))
	case o.tls:
		attrs = append(attrs, slog.String("tls_ca", "not written (--tls-ca-out FILE writes it for clients to trust)"))
	}
	if o.proxy != "" {
		attrs = append(attrs, slog.String("proxy", o.proxy), slog.Bool("proxy_invalid", o.proxyInvalid), slog.String("record", o.record))
	}
	if f := o.faults; f.Latency.Max > 0 || f.FaultRate > 0 || f.RateLimit.Requests > 0 {
		attrs = append(attrs, slog.String("latency", f.Latency.String()), slog.Float64("fault_rate", f.FaultRate),
			slog.String("rate_limit", f.RateLimit.String()))
	}
	logger.Info("listening", attrs...)
	errc := make(chan error, 1)
	go func() {
		if m.tls != nil {
			errc <- srv.ServeTLS(ln, "", "") // the certificates are in TLSConfig; HTTP/2 is offered
			return
		}
		errc <- srv.Serve(ln)
	}()
	var broken <-chan struct{} // nil, and never ready, in memory
	durable, _ := m.store.(*store.Durable)
	if durable != nil {
		broken = durable.Broken()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	case <-broken:
		// The state file failed under the mock (cut short, say): what is
		// acknowledged can no longer be kept, so the mock stops.
		logger.Error("stopping: the state file failed", slog.Any("error", durable.Err()))
		shutdownCtx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		return durable.Err()
	}
	logger.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if m.record != "" {
		if err := m.handler.WriteRecord(m.record); err != nil {
			return err
		}
		logger.Info("recorded the service's state as a seed file", slog.String("file", m.record))
	}
	logger.Info("stopped")
	return nil
}

// baseURL is the URL a browser on this machine reaches the listener at: an
// address on every interface (0.0.0.0, [::], as in a container) is reached
// as localhost.
func baseURL(addr net.Addr, https bool) string {
	scheme := "http://"
	if https {
		scheme = "https://"
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + net.JoinHostPort(host, port)
}

func stateDescription(path string) string {
	if path == "" {
		return "in memory"
	}
	return path
}
