// Command driver is `make bench`: it starts the mock server and the bare-Echo
// baseline side by side on loopback, drives each with a load generator in
// interleaved rounds, and prints req/s, p50/p99 latency and the ratio of the
// mock to the baseline for each scenario. Ratios come from one run, so the
// noise of a shared machine hits both sides alike.
//
// The load generator is wrk when it is on PATH, otherwise hey (pinned in
// tools.go). With --prism it then measures Stoplight Prism mocking the same
// spec, beside the baseline (`make bench-prism`). Traffic goes to 127.0.0.1
// only; everything started is stopped.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	app         = "0f8fad5b-d9cb-469f-a165-70867728950e"
	validBody   = `{"externalIp":"203.0.113.7","machineName":"connector-eu-01","status":"active"}`
	pageExample = `{"@odata.type": "#microsoft.graph.connector", "externalIp": "String", "machineName": "String", "status": "String"}`
)

// scenario is one kind of request, sent to both servers.
type scenario struct {
	name   string
	body   string
	status int // what the mock must answer
}

var scenarios = []scenario{
	{"POST valid (204)", validBody, 204},
	{"POST invalid (400)", pageExample, 400},
}

// result is one load run.
type result struct {
	rps      float64
	p50, p99 time.Duration
}

// config is what the command line sets.
type config struct {
	mockBin, baselineBin, heyBin, prismBin, spec string
	rounds                                       int
	duration                                     time.Duration
	conns                                        int
	groups                                       int
}

func main() {
	var cfg config
	flag.StringVar(&cfg.mockBin, "mock", "bin/connector-mock", "the mock server `binary`")
	flag.StringVar(&cfg.baselineBin, "baseline", "bin/baseline", "the baseline `binary`")
	flag.StringVar(&cfg.heyBin, "hey", "bin/hey", "the hey `binary`, used when wrk is not on PATH")
	flag.StringVar(&cfg.prismBin, "prism", "", "also measure Stoplight Prism, this `binary` (prism-cli), mocking -spec")
	flag.StringVar(&cfg.spec, "spec", "openapi/connector.yaml", "the OpenAPI `file` Prism mocks")
	flag.IntVar(&cfg.rounds, "rounds", 5, "interleaved rounds")
	flag.DurationVar(&cfg.duration, "duration", 4*time.Second, "load per run")
	flag.IntVar(&cfg.conns, "connections", 32, "concurrent connections")
	durable := flag.Bool("durable", false, "compare the mock with --state (durable) to the mock in memory, instead of the mock to the baseline")
	journaled := flag.Bool("journal", false, "compare the mock with its default journal to the mock with --journal-size 0")
	readers := flag.Bool("readers", false, "fill the mock with -groups groups, then measure the adds beside clients repeating each read whose cost must follow the request")
	flag.IntVar(&cfg.groups, "groups", 1_000_000, "with -readers, the `number` of groups (one connector each) the mock holds")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	do := run
	switch {
	case *durable:
		do = runDurable
	case *journaled:
		do = runJournal
	case *readers:
		do = runReaders
	}
	if err := do(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	mockBin, baselineBin, heyBin, prismBin, spec := cfg.mockBin, cfg.baselineBin, cfg.heyBin, cfg.prismBin, cfg.spec
	rounds, duration, conns := cfg.rounds, cfg.duration, cfg.conns
	gen, err := newGenerator(heyBin, conns, duration)
	if err != nil {
		return err
	}
	logs, err := os.CreateTemp("", "connector-mock-bench-*.log")
	if err != nil {
		return err
	}
	defer os.Remove(logs.Name())
	defer logs.Close()
	addrs, stopServers, err := startServers(ctx, logs, []string{mockBin}, []string{baselineBin})
	defer stopServers()
	if err != nil {
		return err
	}
	mockAddr, baseAddr := addrs[0], addrs[1]

	fmt.Printf("load: %s, %d connections, %v a run, %d interleaved rounds; GOMAXPROCS of the servers: %d cores\n\n",
		gen.name(), conns, duration, rounds, numCPU())
	results := map[string][][2]result{} // scenario -> rounds of {mock, baseline}
	for r := range rounds {
		for _, sc := range scenarios {
			var pair [2]result
			// Alternate who goes first, so neither always runs on a warmer machine.
			order := []int{0, 1}
			if r%2 == 1 {
				order = []int{1, 0}
			}
			for _, side := range order {
				addr, want := mockAddr, sc.status
				if side == 1 {
					addr, want = baseAddr, 204
				}
				res, err := gen.run(ctx, "http://"+addr+"/applications/"+app+"/connectorGroup/members/$ref", sc.body, want)
				if err != nil {
					return fmt.Errorf("%s, round %d: %w", sc.name, r+1, err)
				}
				pair[side] = res
			}
			results[sc.name] = append(results[sc.name], pair)
			fmt.Printf("round %d  %-20s mock %8.0f req/s   baseline %8.0f req/s   ratio %.2f\n",
				r+1, sc.name, pair[0].rps, pair[1].rps, pair[0].rps/pair[1].rps)
		}
	}
	fmt.Printf("\n%-20s %12s %12s %9s %9s %9s %9s %8s\n", "scenario", "mock req/s", "base req/s", "mock p50", "mock p99", "base p50", "base p99", "ratio")
	for _, sc := range scenarios {
		rs := results[sc.name]
		m, b := median(rs, 0), median(rs, 1)
		var ratios []float64
		for _, p := range rs {
			ratios = append(ratios, p[0].rps/p[1].rps)
		}
		slices.Sort(ratios)
		fmt.Printf("%-20s %12.0f %12.0f %9s %9s %9s %9s %7.2fx\n", sc.name, m.rps, b.rps,
			m.p50.Round(time.Microsecond), m.p99.Round(time.Microsecond), b.p50.Round(time.Microsecond), b.p99.Round(time.Microsecond),
			ratios[len(ratios)/2])
	}
	fmt.Println("\nratio = median over rounds of (mock req/s ÷ baseline req/s) in the same round")
	if prismBin != "" {
		return comparePrism(ctx, gen, logs, prismBin, spec, baseAddr)
	}
	return nil
}

// comparePrism measures Stoplight Prism mocking the same spec, one run a
// scenario, each beside a run of the baseline. Prism answers what it picks
// from the spec (201 with an example body for a valid add), so its statuses
// are reported, not required.
func comparePrism(ctx context.Context, gen generator, logs *os.File, prismBin, spec, baseAddr string) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(addr)
	stop, err := start(ctx, logs, prismBin, "mock", "-h", host, "-p", port, spec)
	if err != nil {
		return err
	}
	defer stop()
	if err := waitListening(ctx, addr, time.Minute); err != nil {
		return fmt.Errorf("prism: %w", err)
	}
	fmt.Printf("\n%-20s %12s %12s %9s %9s %8s\n", "Stoplight Prism", "prism req/s", "base req/s", "prism p50", "prism p99", "ratio")
	for _, sc := range scenarios {
		path := "/applications/" + app + "/connectorGroup/members/$ref"
		p, err := gen.run(ctx, "http://"+addr+path, sc.body, 0)
		if err != nil {
			return fmt.Errorf("prism, %s: %w", sc.name, err)
		}
		b, err := gen.run(ctx, "http://"+baseAddr+path, sc.body, 204)
		if err != nil {
			return fmt.Errorf("baseline beside prism, %s: %w", sc.name, err)
		}
		label, _, _ := strings.Cut(sc.name, " (") // Prism's statuses are its own
		fmt.Printf("%-20s %12.0f %12.0f %9s %9s %7.3fx\n", label, p.rps, b.rps,
			p.p50.Round(time.Microsecond), p.p99.Round(time.Microsecond), p.rps/b.rps)
	}
	return nil
}

// median picks the run with the median throughput of one side.
func median(rs [][2]result, side int) result {
	runs := make([]result, len(rs))
	for i, p := range rs {
		runs[i] = p[side]
	}
	slices.SortFunc(runs, func(a, b result) int { return int(a.rps - b.rps) })
	return runs[len(runs)/2]
}

func numCPU() int {
	if v, err := strconv.Atoi(os.Getenv("GOMAXPROCS")); err == nil {
		return v
	}
	return runtimeNumCPU()
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServers starts each command (a binary and its arguments) with --addr
// on a free loopback port of its own, and waits until each listens. stop
// stops what was started, whatever err says.
func startServers(ctx context.Context, logs *os.File, commands ...[]string) (addrs []string, stop func(), err error) {
	var stops []func()
	stop = func() {
		for _, s := range stops {
			s()
		}
	}
	for _, command := range commands {
		addr, err := freeAddr()
		if err != nil {
			return nil, stop, err
		}
		s, err := start(ctx, logs, command[0], append(command[1:], "--addr", addr)...)
		if err != nil {
			return nil, stop, err
		}
		stops = append(stops, s)
		addrs = append(addrs, addr)
	}
	for _, addr := range addrs {
		if err := waitListening(ctx, addr, 10*time.Second); err != nil {
			return nil, stop, err
		}
	}
	return addrs, stop, nil
}

// start runs a server and returns the function that stops it.
func start(ctx context.Context, logs *os.File, bin string, args ...string) (func(), error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
	}, nil
}

func waitListening(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("nothing listens on %s after %v", addr, timeout)
}

// generator is a load generator.
type generator interface {
	name() string
	// run loads url with POSTs of body; every answer must have status want, unless want is 0.
	run(ctx context.Context, url, body string, want int) (result, error)
}

func newGenerator(heyBin string, conns int, duration time.Duration) (generator, error) {
	if path, err := exec.LookPath("wrk"); err == nil {
		dir, err := os.MkdirTemp("", "bench-wrk")
		if err != nil {
			return nil, err
		}
		return &wrk{path: path, dir: dir, conns: conns, duration: duration}, nil
	}
	if _, err := os.Stat(heyBin); err != nil {
		return nil, fmt.Errorf("neither wrk on PATH nor hey at %s: %w", heyBin, err)
	}
	return &heyGen{path: heyBin, conns: conns, duration: duration}, nil
}

// wrk drives load with wrk and a Lua script that sets method, headers and body.
type wrk struct {
	path, dir string
	conns     int
	duration  time.Duration
}

func (w *wrk) name() string { return "wrk" }

func (w *wrk) run(ctx context.Context, url, body string, want int) (result, error) {
	script := filepath.Join(w.dir, "post.lua")
	lua := fmt.Sprintf(`wrk.method = "POST"
wrk.body = %q
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench"
local bad = 0
local want = %d
response = function(status, headers, body) if want ~= 0 and status ~= want then bad = bad + 1 end end
done = function(summary, latency, requests) io.write(string.format("unexpected-status: %%d\n", bad)) end
`, body, want)
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		return result{}, err
	}
	out, err := exec.CommandContext(ctx, w.path, "-t", "1", "-c", strconv.Itoa(w.conns),
		"-d", fmt.Sprintf("%ds", int(w.duration.Seconds())), "--latency", "-s", script, url).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	text := string(out)
	// Counting statuses in Lua costs wrk a little per request: the same for both sides.
	if m := regexp.MustCompile(`unexpected-status: (\d+)`).FindStringSubmatch(text); m == nil || m[1] != "0" {
		return result{}, fmt.Errorf("answers other than %d:\n%s", want, text)
	}
	return parse(text, `Requests/sec:\s+([0-9.]+)`, `\s50%\s+([0-9.]+\w+)`, `\s99%\s+([0-9.]+\w+)`)
}

// heyGen drives load with hey.
type heyGen struct {
	path     string
	conns    int
	duration time.Duration
}

func (h *heyGen) name() string { return "hey" }

func (h *heyGen) run(ctx context.Context, url, body string, want int) (result, error) {
	out, err := exec.CommandContext(ctx, h.path, "-z", h.duration.String(), "-c", strconv.Itoa(h.conns),
		"-m", "POST", "-T", "application/json", "-H", "Authorization: Bearer bench", "-d", body, url).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("hey: %w\n%s", err, out)
	}
	text := string(out)
	if m := regexp.MustCompile(`\[(\d+)\]\s+\d+ responses`).FindAllStringSubmatch(text, -1); want != 0 && (len(m) != 1 || m[0][1] != strconv.Itoa(want)) {
		return result{}, fmt.Errorf("answers other than %d:\n%s", want, text)
	}
	// hey v0.1.5 prints its percentiles as "50%% in 0.0005 secs" (a doubled %
	// from its template); take one % or two, should a later hey fix it.
	return parse(text, `Requests/sec:\s+([0-9.]+)`, `50%{1,2} in ([0-9.]+) secs`, `99%{1,2} in ([0-9.]+) secs`)
}

func parse(text, rpsPat, p50Pat, p99Pat string) (result, error) {
	var r result
	m := regexp.MustCompile(rpsPat).FindStringSubmatch(text)
	if m == nil {
		return r, errors.New("no Requests/sec in:\n" + text)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	var err error
	if r.p50, err = latency(text, p50Pat); err != nil {
		return r, err
	}
	r.p99, err = latency(text, p99Pat)
	return r, err
}

// latency reads "1.23ms" (wrk) or "0.0012" seconds (hey).
func latency(text, pattern string) (time.Duration, error) {
	m := regexp.MustCompile(pattern).FindStringSubmatch(text)
	if m == nil {
		return 0, fmt.Errorf("no latency %q in:\n%s", pattern, text)
	}
	if d, err := time.ParseDuration(m[1]); err == nil {
		return d, nil
	}
	secs, err := strconv.ParseFloat(m[1], 64)
	return time.Duration(secs * float64(time.Second)), err
}

func runtimeNumCPU() int { return runtime.NumCPU() }
