package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/internal/spectest"
	"github.com/connector-group/members-api/server"
)

// checkedServer serves the mock behind a proxy that checks every response
// against the spec, so the CLI's traffic is checked too.
func checkedServer(t *testing.T, cfg server.Config) string {
	t.Helper()
	h, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	checker, err := spectest.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		checker.MustCheck(t, r, rec.Code, rec.Header(), rec.Body.Bytes())
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

type cli struct {
	t   *testing.T
	env map[string]string
}

func (c cli) run(args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
	code = run(context.Background(), args, &out, &errOut, lookup)
	return code, out.String(), errOut.String()
}

func TestWorkflow(t *testing.T) {
	url := checkedServer(t, server.Config{Token: "tok"})
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": url, "CONNECTORCTL_TOKEN": "tok"}}
	app := uuid.NewString()
	id := uuid.NewString()

	code, out, errOut := c.run("add", "--app", app, "--id", id, "--machine-name", "eu-01", "--external-ip", "203.0.113.7", "--status", "active")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "eu-01") || !strings.HasPrefix(out, "ID") {
		t.Fatalf("add: %d\n%s%s", code, out, errOut)
	}
	code, out, _ = c.run("add", "--app", app, "--machine-name", "eu-02", "--external-ip", "2001:db8::2", "--status", "inactive", "--minimal", "--output", "json")
	var added client.Connector
	if code != 0 || json.Unmarshal([]byte(out), &added) != nil || added.ID == nil || added.Status != generated.ConnectorStatusInactive {
		t.Fatalf("add --minimal --output json: %d %s", code, out)
	}

	code, out, _ = c.run("list", "--app", app, "--output", "json", "--page-size", "1")
	var list []client.Connector
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 || list[0].MachineName != "eu-01" {
		t.Fatalf("list: %d %s", code, out)
	}
	code, out, _ = c.run("list", "--app", app)
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Errorf("list as a table: %d\n%s", code, out)
	}
	code, out, _ = c.run("get", "--app", app, "--id", id, "--output", "json")
	var got client.Connector
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.MachineName != "eu-01" {
		t.Errorf("get: %d %s", code, out)
	}
	if code, out, _ = c.run("remove", "--app", app, "--id", id); code != 0 || !strings.Contains(out, "removed "+id) {
		t.Errorf("remove: %d %s", code, out)
	}

	// API errors: exit 1, code, message and request-id on stderr, nothing on stdout.
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"get", "--app", app, "--id", id}, []string{"Request_ResourceNotFound", "status: 404"}},
		{[]string{"add", "--app", app, "--machine-name", "x", "--external-ip", "String", "--status", "String"},
			[]string{"Request_BadRequest", `/status: value "String" is not one of active, inactive`, "/externalIp:"}},
		{[]string{"list", "--app", app, "--token", "wrong"}, []string{"InvalidAuthenticationToken", "status: 401"}},
	} {
		code, out, errOut := c.run(tc.args...)
		if code != exitError || out != "" {
			t.Errorf("%v: exit %d, stdout %q; want 1 and nothing", tc.args, code, out)
		}
		for _, want := range append(tc.want, "request-id: ") {
			if !strings.Contains(errOut, want) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, want, errOut)
			}
		}
	}
}

func TestUsageErrors(t *testing.T) {
	c := cli{t: t, env: map[string]string{}}
	app := uuid.NewString()
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"add", "--app", app, "--machine-name", "x", "--external-ip", "1.2.3.4"},
		{"add", "--app", "not-a-guid", "--machine-name", "x", "--external-ip", "1.2.3.4", "--status", "active"},
		{"get", "--app", app},
		{"list"},
		{"list", "--app", app, "--output", "yaml"},
		{"list", "--app", app, "extra"},
		{"list", "--app", app, "--server", "not a url"},
		{"list", "--no-such-flag"},
	} {
		if code, out, errOut := c.run(args...); code != exitUsage || out != "" || errOut == "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 with a message", args, code, out, errOut)
		}
	}
}

func TestNetworkErrorExitsOne(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": url}}
	if code, _, errOut := c.run("list", "--app", uuid.NewString()); code != exitError || !strings.Contains(errOut, "connectorctl:") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestAddHelpListsStatusesFromSpec(t *testing.T) {
	code, _, errOut := cli{t: t}.run("add", "--help")
	if code != exitOK {
		t.Errorf("exit %d", code)
	}
	// The statuses come from the embedded spec; the test reads them from the same place.
	want := "one of: " + strings.Join(statusValues(), ", ")
	if !strings.Contains(errOut, want) || !strings.Contains(errOut, "active, inactive") {
		t.Errorf("add --help lacks %q:\n%s", want, errOut)
	}
}
