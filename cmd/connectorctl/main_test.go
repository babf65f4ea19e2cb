package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/internal/spectest"
	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/faults"
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
	return c.runContext(context.Background(), args...)
}

func (c cli) runContext(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
	code = run(ctx, args, &out, &errOut, lookup)
	return code, out.String(), errOut.String()
}

// member is a member as `-o json` prints it.
type member struct {
	ID, ExternalIP, MachineName, Status string
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
	// Global flags after the command or before it.
	code, out, _ = c.run("-o", "json", "add", "--app", app, "--machine-name", "eu-02", "--external-ip", "2001:db8::2", "--status", "inactive", "--minimal")
	var added member
	if code != 0 || json.Unmarshal([]byte(out), &added) != nil || added.ID == "" || added.Status != "inactive" {
		t.Fatalf("-o json add --minimal: %d %s", code, out)
	}

	code, out, _ = c.run("list", "--app", app, "--output", "json", "--page-size", "1")
	var list []member
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 || list[0].MachineName != "eu-01" {
		t.Fatalf("list -o json across two pages: %d %q", code, out)
	}
	code, out, _ = c.run("list", "--app", app)
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Errorf("list as a table: %d\n%s", code, out)
	}
	code, out, _ = c.run("list", "-q", "--app", app)
	if code != 0 || out != id+"\n"+added.ID+"\n" {
		t.Errorf("list -q: %d %q, want the two ids", code, out)
	}
	code, out, _ = c.run("get", "--app", app, "--id", id, "--output", "json")
	var got member
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.MachineName != "eu-01" {
		t.Errorf("get: %d %s", code, out)
	}
	if code, out, _ = c.run("remove", "--app", app, "--id", id); code != 0 || !strings.Contains(out, "removed "+id) {
		t.Errorf("remove: %d %s", code, out)
	}
	code, out, errOut = c.run("remove", "--app", app, "--id", id, "--ignore-not-found", "-o", "json")
	if code != 0 || strings.TrimSpace(out) != `{"id":"`+id+`","removed":false}` {
		t.Errorf("remove --ignore-not-found -o json of a removed member: %d %q %s", code, out, errOut)
	}
	if code, out, _ := c.run("list", "--app", uuid.NewString(), "-o", "json"); code != 0 || out != "[]\n" {
		t.Errorf("an empty list -o json: %d %q", code, out)
	}
	// The journal: what was sent, newest first.
	code, out, errOut = c.run("requests", "--app", app, "--operation", "removeConnectorGroupMember")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, "404") || !strings.Contains(out, "Request_ResourceNotFound") {
		t.Errorf("requests --operation removeConnectorGroupMember: %d\n%s%s", code, out, errOut)
	}
	if code, out, _ = c.run("requests", "--status", "400", "-o", "json"); code != 0 || strings.Contains(out, "tok") && strings.Contains(out, "Bearer") {
		t.Errorf("requests -o json: %d %s", code, out)
	}

	// API errors: exit 1, code, message and request-id on stderr, nothing on stdout.
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"get", "--app", app, "--id", id}, []string{"Request_ResourceNotFound", "status: 404"}},
		{[]string{"remove", "--app", app, "--id", id}, []string{"Request_ResourceNotFound", "status: 404"}},
		{[]string{"add", "--app", app, "--machine-name", "x", "--external-ip", "String", "--status", "String"},
			[]string{"Request_BadRequest", `/status: value "String" is not one of ` + statusNames, "/externalIp:"}},
		{[]string{"list", "--app", app, "--token", "wrong"}, []string{"InvalidAuthenticationToken", "status: 401"}},
		{[]string{"list", "--app", app, "-o", "json", "--token", "wrong"}, []string{"InvalidAuthenticationToken"}},
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
		{"list", "--app", app, "--page-size", "-3"},
		{"list", "--app", app, "--page-size", "1000"},
		{"list", "--app", app, "--timeout", "0s"},
		{"list", "--app", app, "--retries", "-1"},
	} {
		if code, out, errOut := c.run(args...); code != exitUsage || out != "" || errOut == "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 with a message", args, code, out, errOut)
		}
	}
}

// TestConnectorsAndReferences: a connector added to one group is read
// among the connectors and added to another by reference, as the SDKs do.
func TestConnectorsAndReferences(t *testing.T) {
	url := checkedServer(t, server.Config{})
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": url, "CONNECTORCTL_TOKEN": "tok"}}
	app, other, id := uuid.NewString(), uuid.NewString(), uuid.NewString()
	if code, out, errOut := c.run("add", "--app", app, "--id", id, "--machine-name", "eu-01", "--external-ip", "203.0.113.7", "--status", "active"); code != 0 {
		t.Fatalf("add: %d %s%s", code, out, errOut)
	}
	code, out, errOut := c.run("add", "--app", other, "--connector-id", id, "-o", "json")
	var added member
	if code != 0 || json.Unmarshal([]byte(out), &added) != nil || added.ID != id || added.MachineName != "eu-01" {
		t.Fatalf("add --connector-id: %d %s%s", code, out, errOut)
	}
	if code, out, _ := c.run("list", "-q", "--app", other); code != 0 || out != id+"\n" {
		t.Errorf("the other group: %d %q", code, out)
	}
	if code, out, _ := c.run("connectors", "list", "-q"); code != 0 || out != id+"\n" {
		t.Errorf("connectors list: %d %q, want the one connector once", code, out)
	}
	if code, out, _ := c.run("connectors", "get", "--id", id); code != 0 || !strings.Contains(out, "eu-01") {
		t.Errorf("connectors get: %d %q", code, out)
	}
	// A connector the server does not know: the service's 404.
	code, out, errOut = c.run("add", "--app", other, "--connector-id", uuid.NewString())
	if code != exitError || out != "" || !strings.Contains(errOut, "Request_ResourceNotFound") || !strings.Contains(errOut, "status: 404") {
		t.Errorf("add --connector-id of an unknown connector: %d %q %s", code, out, errOut)
	}
	if code, _, errOut := c.run("connectors", "get", "--id", uuid.NewString()); code != exitError || !strings.Contains(errOut, "status: 404") {
		t.Errorf("connectors get of an unknown connector: %d %s", code, errOut)
	}
	// A reference and properties together is a usage error, named.
	code, _, errOut = c.run("add", "--app", app, "--connector-id", id, "--status", "active")
	if code != exitUsage || !strings.Contains(errOut, "cannot be combined with --status") {
		t.Errorf("add --connector-id --status: %d %s", code, errOut)
	}
}

// TestMissingFlagsAreNamedAtOnce: every missing required flag, in a stable order.
func TestMissingFlagsAreNamedAtOnce(t *testing.T) {
	for range 5 {
		code, _, errOut := cli{t: t}.run("add", "--app", uuid.NewString())
		if code != exitUsage || !strings.Contains(errOut, `required flag(s) "external-ip", "machine-name", "status" not set`) {
			t.Fatalf("exit %d:\n%s", code, errOut)
		}
	}
}

// TestTokenNeverPrinted: the token from CONNECTORCTL_TOKEN (or --token)
// appears in no help, usage or error text.
func TestTokenNeverPrinted(t *testing.T) {
	url := checkedServer(t, server.Config{Token: "right"})
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_TOKEN": "secret-value", "CONNECTORCTL_SERVER": url}}
	app := uuid.NewString()
	for _, args := range [][]string{
		{"--help"}, {"list", "--help"}, {"add", "--help"}, {"help", "remove"}, {},
		{"list"}, {"list", "--page-size", "-3", "--app", app}, {"add", "--app", app}, {"frobnicate"},
		{"list", "--app", app}, // 401: the server wants another token
		{"list", "--app", app, "--token", "secret-value", "--server", "http://127.0.0.1:1"},
		{"list", "--app", app, "--token", "secret-value", "--bogus"},
	} {
		_, out, errOut := c.run(args...)
		if strings.Contains(out+errOut, "secret-value") {
			t.Errorf("%q printed the token:\n%s%s", args, out, errOut)
		}
	}
}

func TestServerDownIsClear(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": url}}
	code, _, errOut := c.run("list", "--app", uuid.NewString(), "--retries", "0")
	if code != exitError || !strings.Contains(errOut, "cannot reach the server at "+url) || !strings.Contains(errOut, "connection refused") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestInterruptExits130(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	code, _, errOut := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": srv.URL}}.runContext(ctx, "list", "--app", uuid.NewString())
	if code != exitInterrupted || !strings.Contains(errOut, "interrupted") {
		t.Errorf("exit %d, stderr %q; want 130", code, errOut)
	}
}

// TestListPrintsEachPageAsItArrives: the second page is held back until the
// first one has been printed; a CLI that buffered the list would never print.
func TestListPrintsEachPageAsItArrives(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		t.Run(format, func(t *testing.T) { listStreams(t, format) })
	}
}

func listStreams(t *testing.T, format string) {
	first := uuid.NewString()
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("$skiptoken") == "" {
			fmt.Fprintf(w, `{"value":[{"id":%q,"externalIp":"192.0.2.1","machineName":"first","status":"active"}],"@odata.nextLink":"http://%s%s?$skiptoken=next"}`,
				first, r.Host, r.URL.Path)
			return
		}
		<-release
		fmt.Fprintf(w, `{"value":[{"id":%q,"externalIp":"192.0.2.2","machineName":"second","status":"active"}]}`, uuid.NewString())
	}))
	defer srv.Close()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		lookup := func(k string) (string, bool) { return srv.URL, k == "CONNECTORCTL_SERVER" }
		done <- run(context.Background(), []string{"list", "--app", uuid.NewString(), "-o", format}, pw, io.Discard, lookup)
		pw.Close()
	}()
	seen := make(chan bool, 1)
	printed := make(chan string, 1)
	go func() {
		var all strings.Builder
		lines := bufio.NewScanner(pr)
		for lines.Scan() {
			all.WriteString(lines.Text() + "\n")
			if strings.Contains(lines.Text(), first) {
				seen <- true
			}
		}
		printed <- all.String()
	}()
	select {
	case <-seen:
	case <-time.After(5 * time.Second):
		t.Fatalf("the first page was not printed before the second arrived")
	}
	once.Do(func() { close(release) })
	if code := <-done; code != exitOK {
		t.Errorf("exit %d", code)
	}
	all := <-printed
	if format == "json" {
		var list []member
		if err := json.Unmarshal([]byte(all), &list); err != nil || len(list) != 2 {
			t.Errorf("-o json printed page by page is not one JSON array of 2: %v\n%s", err, all)
		}
	}
}

func TestHelpVersionAndCompletion(t *testing.T) {
	c := cli{t: t}
	code, out, errOut := c.run("add", "--help")
	want := "one of: " + statusNames
	if code != exitOK || !strings.Contains(out, want) || errOut != "" {
		t.Errorf("add --help: exit %d, stdout lacks %q or stderr %q:\n%s", code, want, errOut, out)
	}
	if code, out, _ := c.run("version"); code != exitOK || !strings.HasPrefix(out, "connectorctl ") || !strings.Contains(out, "connector-client-go/") {
		t.Errorf("version: %d %q", code, out)
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if code, out, _ := c.run("completion", shell); code != exitOK || !strings.Contains(out, "connectorctl") {
			t.Errorf("completion %s: exit %d, %d bytes", shell, code, len(out))
		}
	}
}

// TestRequestsAnswerIsCapped: a 300 MB answer to `requests` is read up to the
// client's cap (32 MiB) and refused, rather than held: the command fails
// with a clear message, and the heap does not grow by the answer.
func TestRequestsAnswerIsCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"value":[{"path":"`)
		chunk := strings.Repeat("x", 1<<20)
		for range 300 {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, `"}]}`)
	}))
	defer srv.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": srv.URL}}
	code, _, errOut := c.run("requests")
	runtime.ReadMemStats(&after)
	if code != exitError || !strings.Contains(errOut, "larger than 32 MiB") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 150<<20 {
		t.Errorf("reading the answer allocated %d MiB, want well under the 300 MB sent", grew>>20)
	}
}

// TestServerTextCannotDriveTheTerminal: a machine name holding terminal
// escapes (OSC 0 retitles the window, OSC 52 writes the clipboard, CSI moves
// the cursor), stored by the mock as sent, reaches stdout escaped, and so
// does a property name in the targets of the journal; a password in --server
// never reaches stderr.
func TestServerTextCannotDriveTheTerminal(t *testing.T) {
	url := checkedServer(t, server.Config{})
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": url, "CONNECTORCTL_TOKEN": "t"}}
	app := uuid.NewString()
	hostile := "\x1b]0;pwned\x07\x1b]52;c;ZWNobyBvd25lZA==\x07\x1b[2J\u202eevil\u009b\x7f"
	body, _ := json.Marshal(map[string]string{"externalIp": "192.0.2.1", "machineName": hostile, "status": "active"})
	req, _ := http.NewRequest(http.MethodPost, url+"/applications/"+app+"/connectorGroup/members/$ref", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/json")
	rsp, err := http.DefaultClient.Do(req)
	if err != nil || rsp.StatusCode != http.StatusNoContent {
		t.Fatalf("storing the name: %v %v", rsp, err)
	}
	rsp.Body.Close()
	code, out, _ := c.run("list", "--app", app)
	if code != 0 || strings.ContainsAny(out, "\x1b\x07\u202e\u009b\x7f") || !strings.Contains(out, `\x1b]0;pwned\x07`) || !strings.Contains(out, `\u202eevil\x9b\x7f`) {
		t.Errorf("list printed %q", out)
	}
	// -o json: the same string, every such character as a JSON escape.
	for _, args := range [][]string{{"list", "--app", app, "-o", "json"}, {"connectors", "list", "-o", "json"}, {"requests", "-o", "json"}} {
		code, out, _ = c.run(args...)
		var items []map[string]any
		if code != 0 || strings.ContainsAny(out, "\x1b\x07\u202e\u009b\x7f") || json.Unmarshal([]byte(out), &items) != nil {
			t.Errorf("%q printed %q", args, out)
		}
		if args[0] != "requests" && (len(items) != 1 || items[0]["machineName"] != hostile) {
			t.Errorf("%q: the name does not read back as sent: %v", args, items)
		}
	}
	// A property name with an escape, in the journal's TARGETS column.
	req, _ = http.NewRequest(http.MethodPost, url+"/applications/"+app+"/connectorGroup/members/$ref",
		strings.NewReader(`{"\u001b[31mred":1}`))
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/json")
	if rsp, err := http.DefaultClient.Do(req); err == nil {
		rsp.Body.Close()
	}
	code, out, _ = c.run("requests", "--status", "400")
	if code != 0 || strings.Contains(out, "\x1b") || !strings.Contains(out, `\x1b[31mred`) {
		t.Errorf("requests printed %q", out)
	}
	down := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": "http://user:SECRETPW@127.0.0.1:1"}}
	code, _, errOut := down.run("list", "--app", app, "--retries", "0")
	if code != exitError || strings.Contains(errOut, "SECRETPW") || !strings.Contains(errOut, "http://user:xxxxx@127.0.0.1:1") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestAdminCommands: reset, faults, faults set and applications, as the
// dashboard offers them; their errors print as every command's do.
func TestAdminCommands(t *testing.T) {
	url := checkedServer(t, server.Config{Token: "tok"})
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": url, "CONNECTORCTL_TOKEN": "tok"}}
	first, second := uuid.NewString(), uuid.NewString()
	for _, app := range []string{first, second, first} {
		if code, out, errOut := c.run("add", "--app", app, "--machine-name", "m", "--external-ip", "192.0.2.1", "--status", "active"); code != 0 {
			t.Fatalf("add: %d %s%s", code, out, errOut)
		}
	}
	code, out, _ := c.run("applications")
	if code != 0 || out != "APPLICATION                           MEMBERS\n"+first+"  2\n"+second+"  1\n" {
		t.Errorf("applications: %d\n%s", code, out)
	}
	if code, out, _ := c.run("reset", "--app", first); code != 0 || out != "reset the group of "+first+"\n" {
		t.Errorf("reset --app: %d %q", code, out)
	}
	if code, out, _ := c.run("applications", "-q"); code != 0 || out != second+"\n" {
		t.Errorf("applications -q after reset --app: %d %q", code, out)
	}
	code, out, errOut := c.run("faults", "set", "--latency", "1ms-2ms", "--fault-codes", "503,504", "--rate-limit", "100/1m")
	if code != 0 || !strings.Contains(out, "1ms-2ms") || !strings.Contains(out, "503, 504") || !strings.Contains(out, "100/1m0s") {
		t.Errorf("faults set: %d\n%s%s", code, out, errOut)
	}
	code, out, _ = c.run("faults", "-o", "json")
	var settings map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &settings) != nil || settings["latency"] != "1ms-2ms" {
		t.Errorf("faults -o json: %d %s", code, out)
	}
	// A setting the mock refuses: its envelope, as for any API error.
	code, out, errOut = c.run("faults", "set", "--latency", "fast")
	if code != exitError || out != "" || !strings.Contains(errOut, "Request_BadRequest") || !strings.Contains(errOut, "/latency:") || !strings.Contains(errOut, "request-id: ") {
		t.Errorf("faults set --latency fast: %d %q\n%s", code, out, errOut)
	}
	if code, _, errOut := c.run("faults", "set"); code != exitUsage || !strings.Contains(errOut, "give at least one setting") {
		t.Errorf("faults set without a setting: %d %s", code, errOut)
	}
	// faults set merges: what it does not name stays, as its help says.
	c.run("faults", "set", "--fault-rate", "0.5", "--fault-codes", "500")
	code, out, _ = c.run("faults", "set", "--latency", "10ms", "--operations", "listConnectors,getConnector", "--remaining", "7")
	for _, want := range []string{"fault rate   0.5", "fault codes  500", "latency      10ms", "operations   listConnectors, getConnector", "remaining    7"} {
		if code != 0 || !strings.Contains(out, want+"\n") {
			t.Errorf("faults set --latency after --fault-rate: %d, want %q in\n%s", code, want, out)
		}
	}
	// -v shows the admin API's requests too.
	if code, _, errOut := c.run("-v", "faults", "set", "--target", first); code != 0 || !strings.Contains(errOut, "attempt 1: PATCH "+url+"/_admin/faults -> 200 (request-id ") {
		t.Errorf("-v faults set: %d\n%s", code, errOut)
	}
	if code, out, _ := c.run("reset", "--keep-faults"); code != 0 || out != "reset everything\n" {
		t.Errorf("reset --keep-faults: %d %q", code, out)
	}
	if code, out, _ := c.run("faults"); code != 0 || !strings.Contains(out, "fault rate   0.5\n") {
		t.Errorf("faults after reset --keep-faults: %d\n%s", code, out)
	}
	if code, out, _ := c.run("faults", "clear"); code != 0 || out != "every fault setting is off\n" {
		t.Errorf("faults clear: %d %q", code, out)
	}
	if code, out, _ := c.run("faults"); code != 0 || !strings.Contains(out, "fault rate   0\n") || !strings.Contains(out, "operations   all\n") {
		t.Errorf("faults after faults clear: %d\n%s", code, out)
	}
	if code, out, _ := c.run("reset"); code != 0 || out != "reset everything\n" {
		t.Errorf("reset: %d %q", code, out)
	}
	// A wrong token: exit 1 with the code, not raw JSON.
	code, _, errOut = c.run("requests", "--token", "wrong")
	if code != exitError || !strings.Contains(errOut, "InvalidAuthenticationToken") || strings.Contains(errOut, `{"error"`) {
		t.Errorf("requests with a wrong token: %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "The token was refused: give the one the server was started with (--token or CONNECTORCTL_TOKEN).") {
		t.Errorf("requests with a wrong token says not what to do:\n%s", errOut)
	}
	anonymous := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": url}}
	if code, _, errOut := anonymous.run("requests"); code != exitError || !strings.Contains(errOut, "No token was sent: give the server's token with --token or CONNECTORCTL_TOKEN.") {
		t.Errorf("requests without a token: %d\n%s", code, errOut)
	}
}

// TestRequestsUsage: --status is checked and said in words, --clear refuses
// filters (it empties the whole journal), and a usage error points to the
// command's own help.
func TestRequestsUsage(t *testing.T) {
	url := checkedServer(t, server.Config{})
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": url}}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"requests", "--status", "abc"}, `invalid argument "abc" for "--status" flag: want a number`},
		{[]string{"requests", "--status", "42"}, "--status 42: want a status from 100 to 599"},
		{[]string{"requests", "--clear", "--status", "400"}, "--clear empties the whole journal; it cannot be combined with --status"},
		{[]string{"requests", "--top", "0"}, "--top 0: want 1 to 100000"},
	} {
		code, out, errOut := c.run(tc.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "Run 'connectorctl requests --help' for usage.") {
			t.Errorf("%q: exit %d, stdout %q, stderr:\n%s", tc.args, code, out, errOut)
		}
	}
	if code, _, errOut := c.run("faults", "set", "--bogus"); code != exitUsage || !strings.Contains(errOut, "Run 'connectorctl faults set --help' for usage.") {
		t.Errorf("faults set --bogus: %d %s", code, errOut)
	}
}

// TestVerbose: -v prints each attempt, its status and the wait before a
// retry on stderr, never the token.
func TestVerbose(t *testing.T) {
	url := checkedServer(t, server.Config{Token: "secret-token", Faults: faults.Settings{RateLimit: faults.RateLimit{Requests: 1, Window: time.Second}}})
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": url, "CONNECTORCTL_TOKEN": "secret-token"}}
	app := uuid.NewString()
	c.run("list", "--app", app)
	code, out, errOut := c.run("list", "--app", app, "-v")
	if code != 0 || out == "" {
		t.Fatalf("list -v: %d %q %s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "attempt 1: GET "+url) || !strings.Contains(lines[0], "-> 429") ||
		!strings.Contains(lines[0], "retrying in 1s") || !strings.Contains(lines[1], "attempt 2") || !strings.Contains(lines[1], "-> 200") {
		t.Errorf("list -v against a rate limit, stderr:\n%s", errOut)
	}
	if strings.Contains(errOut, "secret-token") {
		t.Error("-v printed the token")
	}
	t.Logf("-v:\n%s", errOut)
}

// statusNames are the connector's statuses as the validator's messages list
// them, read from generated/ so that a status added to the spec needs no
// edit here.
var statusNames = func() string {
	var names []string
	for _, v := range generated.ConnectorStatusValues() {
		names = append(names, string(v))
	}
	return strings.Join(names, ", ")
}()

// TestAdminAnswerThatIsNotJSON: a 200 from the admin API whose body is not
// the JSON it describes is a failure that says so, never a panic.
func TestAdminAnswerThatIsNotJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html>a proxy's page</html>")
	}))
	defer srv.Close()
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": srv.URL, "CONNECTORCTL_TOKEN": "t"}}
	for _, args := range [][]string{{"applications"}, {"requests"}, {"faults"}} {
		code, out, errOut := c.run(args...)
		if code != exitError || out != "" || !strings.Contains(errOut, "not the JSON the admin API describes") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// TestRequestsViolations: in front of a service that answers with a
// property the spec does not have, `requests --violations` prints the
// disagreement, one line each, escaped.
func TestRequestsViolations(t *testing.T) {
	id := uuid.NewString()
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("request-id", uuid.NewString())
		fmt.Fprintf(w, `{"id":%q,"externalIp":"198.51.100.3","machineName":"agent-3","status":"active","version":"1.5\u001b[2J"}`, id)
	}))
	defer service.Close()
	proxy, err := server.New(server.Config{Proxy: service.URL})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": srv.URL, "CONNECTORCTL_TOKEN": "tok"}}
	if code, out, errOut := c.run("connectors", "get", "--id", id); code != 0 {
		t.Fatalf("connectors get through the proxy: %d %s%s", code, out, errOut)
	}
	c.run("list", "--app", uuid.NewString()) // agrees with nothing either, but says so differently
	code, out, errOut := c.run("requests", "--violations", "--operation", "getConnector")
	want := `response  /version  no such property (additionalProperties: false)  "1.5\u001b[2J"`
	if code != 0 || !strings.Contains(out, "IN        WHERE     THE SPEC SAYS") || !strings.Contains(out, want) || strings.Contains(out, "\x1b") {
		t.Errorf("requests --violations: %d\n%s%s\nwant a line with %s", code, out, errOut, want)
	}
}

// TestVerboseOnEveryCommand: -v prints each request of every command that
// makes one, the API's and the admin API's alike. The table must name every
// command the CLI has, so a command added later without -v fails here.
func TestVerboseOnEveryCommand(t *testing.T) {
	url := checkedServer(t, server.Config{Token: "t"})
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": url, "CONNECTORCTL_TOKEN": "t"}}
	app, id := uuid.NewString(), uuid.NewString()
	commands := map[string][]string{
		"add":          {"add", "--app", app, "--machine-name", "m1", "--external-ip", "10.0.0.1", "--status", "active"},
		"list":         {"list", "--app", app},
		"get":          {"get", "--app", app, "--id", id},
		"remove":       {"remove", "--app", app, "--id", id},
		"connectors":   {"connectors", "list"},
		"requests":     {"requests"},
		"reset":        {"reset"},
		"faults":       {"faults"},
		"applications": {"applications"},
		"groups":       {"groups", "list"},
	}
	subcommands := map[string][]string{
		"connectors get":  {"connectors", "get", "--id", id},
		"faults set":      {"faults", "set", "--latency", "1ms"},
		"faults clear":    {"faults", "clear"},
		"groups members":  {"groups", "members", "--id", id},
		"groups get":      {"groups", "get", "--id", id},
		"groups create":   {"groups", "create", "--name", "eu"},
		"groups update":   {"groups", "update", "--id", id, "--name", "us"},
		"groups delete":   {"groups", "delete", "--id", id},
		"groups move":     {"groups", "move", "--group", id, "--connector", id},
		"groups assign":   {"groups", "assign", "--group", id, "--app", app},
		"connectors list": {"connectors", "list"},
		"groups list":     {"groups", "list"},
	}
	maps.Copy(commands, subcommands)
	noRequest := map[string]bool{"version": true, "completion": true, "help": true}
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			name := strings.TrimPrefix(sub.CommandPath(), "connectorctl ")
			if noRequest[strings.Fields(name)[0]] {
				continue
			}
			if _, ok := commands[name]; !ok {
				t.Errorf("%q is not in the table: give it arguments here", name)
			}
			walk(sub)
		}
	}
	walk(newRoot(&globals{lookup: func(string) (string, bool) { return "", false }, stdout: io.Discard, stderr: io.Discard}))
	for name, args := range commands {
		_, _, errOut := c.run(append(args, "-v")...)
		if !strings.Contains(errOut, "connectorctl: attempt 1: ") || !strings.Contains(errOut, url) {
			t.Errorf("%s -v printed no attempt:\n%s", name, errOut)
		}
		if strings.Contains(errOut, "Bearer") {
			t.Errorf("%s -v printed the token", name)
		}
	}
}

// TestDeadlineBoundsTheCommand: --deadline bounds the whole command, its
// retries included, where --timeout bounds each attempt: a wait for a retry
// that would end past the deadline is not begun, so a server that answers 503
// with Retry-After: 2 ends a command given 1 s at its first answer.
func TestDeadlineBoundsTheCommand(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "2")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":{"code":"ServiceUnavailable","message":"busy"}}`)
	}))
	defer srv.Close()
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": srv.URL, "CONNECTORCTL_TOKEN": "t"}}
	code, out, errOut := c.run("list", "--app", uuid.NewString(), "--retries", "100", "--deadline", "1s")
	if code != exitError || out != "" || !strings.Contains(errOut, "ServiceUnavailable") || calls.Load() != 1 {
		t.Errorf("exit %d after %d calls, stdout %q, stderr %q; want exit 1 after 1 call", code, calls.Load(), out, errOut)
	}
	if code, _, errOut := c.run("list", "--app", uuid.NewString(), "--deadline", "-1s"); code != exitUsage || !strings.Contains(errOut, "--deadline") {
		t.Errorf("--deadline -1s: exit %d, %q", code, errOut)
	}
}

// TestRedirectToARefusingPort: a server that redirects to a port nobody
// listens on is reported as the place the redirect led, not as the server
// given, which answered.
func TestRedirectToARefusingPort(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, deadURL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": srv.URL, "CONNECTORCTL_TOKEN": "t"}}
	code, _, errOut := c.run("list", "--app", uuid.NewString(), "--retries", "0")
	if code != exitError || !strings.Contains(errOut, "cannot reach "+deadURL+"/applications/") ||
		!strings.Contains(errOut, "where the server at "+srv.URL+" redirected") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestAdminAnswerWithATextRequestID: a request-id that is no GUID (a proxy's
// own, say) does not make the generated admin client refuse the answer; an
// error still names it.
func TestAdminAnswerWithATextRequestID(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/_admin/faults" {
			w.Header().Set("request-id", "proxy-8")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":"Request_ResourceNotFound","message":"no faults here"}}`)
			return
		}
		w.Header().Set("request-id", "proxy-7")
		io.WriteString(w, `{"value":[{"id":"6f1b8a52-8c1e-4f7a-9c43-2b1d7e0a5c11","memberCount":2}],"total":1}`)
	}))
	defer srv.Close()
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": srv.URL, "CONNECTORCTL_TOKEN": "t"}}
	if code, out, errOut := c.run("applications"); code != 0 || !strings.Contains(out, "6f1b8a52-8c1e-4f7a-9c43-2b1d7e0a5c11  2") {
		t.Errorf("applications: exit %d, %q, %q", code, out, errOut)
	}
	if code, _, errOut := c.run("faults"); code != exitError || !strings.Contains(errOut, "request-id: proxy-8") {
		t.Errorf("faults: exit %d, %q", code, errOut)
	}
}
