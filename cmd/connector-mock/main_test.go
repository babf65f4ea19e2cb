package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		want    func(options) bool
		wantErr string
	}{
		{name: "defaults", want: func(o options) bool {
			return o.addr == "127.0.0.1:8080" && o.token == "" && o.maxBody == 1<<20 && o.logFormat == "text" &&
				o.readHeaderTimeout > 0 && o.readTimeout > 0 && o.writeTimeout > 0 && o.idleTimeout > 0
		}},
		{name: "environment", env: map[string]string{"CONNECTOR_MOCK_ADDR": ":9", "CONNECTOR_MOCK_TOKEN": "t", "CONNECTOR_MOCK_MAX_BODY": "10", "CONNECTOR_MOCK_LOG_FORMAT": "json"},
			want: func(o options) bool {
				return o.addr == ":9" && o.token == "t" && o.maxBody == 10 && o.logFormat == "json"
			}},
		{name: "flag beats environment", args: []string{"--token", "flag"}, env: map[string]string{"CONNECTOR_MOCK_TOKEN": "env"},
			want: func(o options) bool { return o.token == "flag" }},
		{name: "bad environment value", env: map[string]string{"CONNECTOR_MOCK_MAX_BODY": "lots"}, wantErr: "CONNECTOR_MOCK_MAX_BODY"},
		{name: "non-positive body limit", args: []string{"--max-body", "0"}, wantErr: "--max-body"},
		{name: "stray argument", args: []string{"serve"}, wantErr: "unexpected argument"},
		{name: "negative read timeout", args: []string{"--read-timeout", "-1s"}, wantErr: "--read-timeout must not be negative"},
		{name: "negative timeouts, each named", args: []string{"--idle-timeout", "-1m", "--write-timeout", "-2s"},
			wantErr: "--write-timeout must not be negative (0 turns it off), not -2s\n--idle-timeout must not be negative"},
		{name: "token with surrounding spaces", args: []string{"--token", " s3cret "}, wantErr: "--token begins or ends with white space"},
		{name: "fault flags", args: []string{"--latency", "50ms-300ms", "--fault-rate", "0.1", "--fault-codes", "429,503", "--rate-limit", "120/60s", "--seed", "42"},
			want: func(o options) bool {
				return o.faults.Latency.String() == "50ms-300ms" && o.faults.FaultRate == 0.1 && len(o.faults.FaultCodes) == 2 &&
					o.faults.RateLimit.Requests == 120 && o.seed == 42
			}},
		{name: "fault flags from the environment", env: map[string]string{"CONNECTOR_MOCK_LATENCY": "200ms", "CONNECTOR_MOCK_RATE_LIMIT": "5/1s"},
			want: func(o options) bool {
				return o.faults.Latency.Min == 200*time.Millisecond && o.faults.RateLimit.Requests == 5
			}},
		{name: "fault rate above 1", args: []string{"--fault-rate", "1.5"}, wantErr: "fault rate 1.5"},
		{name: "fault code 418", args: []string{"--fault-codes", "418"}, wantErr: `fault code "418"`},
		{name: "latency range upside down", args: []string{"--latency", "3s-1s"}, wantErr: "latency"},
		{name: "rate limit without a window", args: []string{"--rate-limit", "5"}, wantErr: "rate limit"},
		{name: "zero timeout turns it off", args: []string{"--read-timeout", "0"}, want: func(o options) bool { return o.readTimeout == 0 }},
		{name: "allowed hosts", args: []string{"--allowed-hosts", "connector-mock, mock.internal"},
			want: func(o options) bool { return slices.Equal(o.hosts(), []string{"connector-mock", "mock.internal"}) }},
		{name: "allowed hosts from the environment", env: map[string]string{"CONNECTOR_MOCK_ALLOWED_HOSTS": "*"},
			want: func(o options) bool { return slices.Equal(o.hosts(), []string{"*"}) }},
		{name: "an allowed host with a port", args: []string{"--allowed-hosts", "mock:8080"}, wantErr: `--allowed-hosts: "mock:8080" is not a host name`},
		{name: "tls", env: map[string]string{"CONNECTOR_MOCK_TLS": "true", "CONNECTOR_MOCK_TLS_CA_OUT": "/data/ca.pem"},
			want: func(o options) bool { return o.tls && o.tlsCAOut == "/data/ca.pem" }},
		{name: "a certificate without its key", args: []string{"--tls-cert", "c.pem"}, wantErr: "--tls-cert and --tls-key go together"},
		{name: "a certificate and one made", args: []string{"--tls", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, wantErr: "give one or the other"},
		{name: "cors origins", args: []string{"--cors-origins", "http://localhost:3000, https://spa.example"},
			want: func(o options) bool {
				return slices.Equal(splitList(o.corsOrigins), []string{"http://localhost:3000", "https://spa.example"})
			}},
		{name: "a cors origin with a path", args: []string{"--cors-origins", "http://localhost:3000/app"}, wantErr: `--cors-origins: "http://localhost:3000/app" is not an origin`},
		{name: "cors for the admin API alone", args: []string{"--cors-admin"}, wantErr: "give --cors-origins too"},
		{name: "a CA file without --tls", args: []string{"--tls-ca-out", "ca.pem"}, wantErr: "--tls-ca-out writes the CA that --tls makes"},
		{name: "a percentage for a share", args: []string{"--fault-rate", "20%"}, wantErr: `--fault-rate "20%": want a share from 0 to 1, such as 0.2 (not a percentage)`},
		{name: "a seed file for the seed", args: []string{"--seed", "seed.yaml"}, wantErr: `--seed "seed.yaml": want a number, the seed of the random draws (a seed file is --seed-file)`},
		{name: "a duration without its unit", args: []string{"--read-timeout", "5"}, wantErr: `--read-timeout "5": want a duration with its unit, such as 2s or 500ms`},
		{name: "a boolean that is not", args: []string{"--tls=maybe"}, wantErr: `--tls "maybe": want true or false`},
		{name: "a record without the proxy", args: []string{"--record", "r.json"}, wantErr: "give --proxy too"},
		{name: "proxy and record", args: []string{"--proxy", "https://graph.microsoft.com", "--record", "r.json", "--proxy-invalid"},
			want: func(o options) bool {
				return o.proxy == "https://graph.microsoft.com" && o.record == "r.json" && o.proxyInvalid
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			o, err := parseFlags(tc.args, lookup, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("the message shows the token: %v", err)
				}
				return
			}
			if err != nil || !tc.want(o) {
				t.Fatalf("parseFlags = %+v, %v", o, err)
			}
		})
	}
}

func TestRunRejectsBadLogFormat(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"--log-format", "xml"}, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "log-format") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestServeAndShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	o, _ := parseFlags(nil, func(string) (string, bool) { return "", false }, io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, o, logger) }()

	rsp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rsp.Body)
	rsp.Body.Close()
	if rsp.StatusCode != 200 || !strings.Contains(string(body), "ok") {
		t.Fatalf("healthz: %d %s", rsp.StatusCode, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after a clean shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after the context ended")
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

// TestVersion: --version prints the release, named in CHANGELOG.md, and exits 0.
func TestVersion(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := run([]string{"--version"}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "connector-mock 0.") || stderr.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

// TestBadFlagIsOneLine: a bad flag value is one line naming the flag and the
// problem, then where the flags are described; exit 2, nothing on stdout. The
// whole usage, with the error printed twice, buried it.
func TestBadFlagIsOneLine(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--latency", "abc"}, `invalid value "abc" for flag -latency`},
		{[]string{"--rate-limit", "lots"}, `invalid value "lots" for flag -rate-limit`},
		{[]string{"--fault-codes", "418"}, `fault code "418": want one of 429, 500, 502, 503, 504`},
		{[]string{"--no-such-flag"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"--max-body", "0"}, "--max-body must be positive"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(c.args, &stdout, &stderr)
		lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
		if code != 2 || stdout.Len() > 0 || len(lines) != 2 || !strings.Contains(lines[0], c.want) ||
			lines[1] != "Run 'connector-mock --help' for the flags." {
			t.Errorf("%q: exit %d, stdout %q, stderr:\n%s", c.args, code, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--help"}, &stdout, &stderr); code != 0 || stderr.Len() > 0 || !strings.Contains(stdout.String(), "-state file") {
		t.Errorf("--help: exit %d, stderr %q, stdout:\n%s", code, stderr.String(), stdout.String())
	}
}
