package openapi_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// module copies the module into a temporary directory, as a maintainer's
// working tree, and returns it.
func module(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("regenerates and builds a copy of the module")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum", "tools.go", "generated", "openapi", "internal", "server", "client", "cmd"} {
		copyTree(t, filepath.Join(root, f), filepath.Join(dir, f))
	}
	return dir
}

// copyEnv is the environment of the go commands run in a copy: -trimpath,
// so that what a copy compiles does not depend on where the copy is, and
// the build cache serves what the copy did not change.
func copyEnv() []string {
	return append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -trimpath"))
}

// editSpec replaces old with new in the copy's spec, failing if old is not there.
func editSpec(t *testing.T, dir, old, new string) {
	t.Helper()
	path := filepath.Join(dir, "openapi", "connector.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("the spec no longer contains %q: update the test", old)
	}
	if err := os.WriteFile(path, bytes.Replace(data, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, dir string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = copyEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// statusEdit is README's Workflow 1 edit, read from the spec as it is now:
// the line that lists connectorStatus's values, that line with one more
// value the spec does not list yet ("degraded", unless it is there already),
// that value, and every value after the edit as the messages list them.
func statusEdit(t *testing.T, spec string) (line, edited, value, all string) {
	t.Helper()
	m := statusEnumLine.FindStringSubmatch(spec)
	if m == nil {
		t.Fatal("the spec has no connectorStatus with an enum line: update the test")
	}
	values := strings.Split(m[2], ", ")
	for _, candidate := range []string{"degraded", "draining", "retired"} {
		if !slices.Contains(values, candidate) {
			value = candidate
			break
		}
	}
	values = append(values, value)
	return m[1], strings.Replace(m[1], m[2], strings.Join(values, ", "), 1), value, strings.Join(values, ", ")
}

var statusEnumLine = regexp.MustCompile(`(?m)^    connectorStatus:\n(?:      .*\n)*?(      enum: \[([^\]]*)\])`)

// propertyEdit is the other edit Workflow 1 names: an optional property
// added to the connector, with a rule. It is location, unless the spec's
// connector has one already (a maintainer who made the README's edit and
// runs make test): then another name.
func propertyEdit(t *testing.T, spec string) (anchor, edited, name string) {
	t.Helper()
	anchor = "        status:\n          $ref: '#/components/schemas/connectorStatus'\n    newMember:"
	start, end := strings.Index(spec, "\n    connector:\n"), strings.Index(spec, anchor)
	if start < 0 || end < start {
		t.Fatal("the spec's connector no longer ends with status before newMember: update the test")
	}
	for _, candidate := range []string{"location", "site", "rack"} {
		if !strings.Contains(spec[start:end], "\n        "+candidate+":\n") {
			name = candidate
			break
		}
	}
	return anchor, "        " + name + ":\n          type: string\n          description: Where the connector runs.\n          maxLength: 64\n" + anchor, name
}

// locationTest reads the member through the client of the edited copy,
// from the mock the outer test runs: Location is a field of client.Member.
const locationTest = `package client_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
)

func TestLocationThroughClient(t *testing.T) {
	c, err := client.New(os.Getenv("WORKFLOW_MOCK"), client.WithToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.GetMember(context.Background(), uuid.MustParse(os.Getenv("WORKFLOW_APP")), uuid.MustParse(os.Getenv("WORKFLOW_ID")))
	if err != nil {
		t.Fatal(err)
	}
	if m.Location == nil || *m.Location != "Amsterdam" {
		t.Fatalf("client.Member.Location = %v, want Amsterdam", m.Location)
	}
	out, _ := json.Marshal(m)
	t.Logf("client: %s", out)
}
`

// TestRegenerateWorkflow is README's Workflow 1 as a maintainer runs it, with
// both edits the README names: a status added to connectorStatus, and an
// optional location added to the connector. After make generate, with no
// other edit, the server's validator and its messages, the models and the
// CLI's help follow the status, and location is stored, served, kept across a restart
// with --state, and returned by the client and the CLI.
func TestRegenerateWorkflow(t *testing.T) {
	t.Parallel() // each works in a copy of its own
	dir := module(t)
	spec, err := os.ReadFile(filepath.Join(dir, "openapi", "connector.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	line, edited, value, all := statusEdit(t, string(spec))
	editSpec(t, dir, line, edited)
	anchor, withProperty, property := propertyEdit(t, string(spec))
	editSpec(t, dir, anchor, withProperty)
	field := strings.ToUpper(property[:1]) + property[1:]
	if out, err := run(t, dir, "go", "generate", "./generated/..."); err != nil {
		t.Fatalf("go generate: %v\n%s", err, out)
	}
	// The models follow: the new value is a constant a user's code can name.
	constant := "ConnectorStatus" + strings.ToUpper(value[:1]) + value[1:] + ` ConnectorStatus = "` + value + `"`
	if models, err := os.ReadFile(filepath.Join(dir, "generated", "connector.gen.go")); err != nil || !bytes.Contains(models, []byte(constant)) {
		t.Errorf("generated/connector.gen.go lacks %s (%v)", constant, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "client", "location_test.go"), []byte(strings.ReplaceAll(strings.ReplaceAll(locationTest, "Location", field), "location", property)), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if out, err := run(t, dir, "go", "build", "-o", bin, "./cmd/connector-mock", "./cmd/connectorctl"); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := run(t, dir, filepath.Join(bin, "connectorctl"), "add", "--help")
	if !strings.Contains(out, all) {
		t.Errorf("connectorctl add --help does not list %s (%v):\n%s", all, err, out)
	}

	state := filepath.Join(t.TempDir(), "state.db")
	mock := startBinary(t, filepath.Join(bin, "connector-mock"), "--state", state)
	app, id := "0f8fad5b-d9cb-469f-a165-70867728950e", "614dea0b-da06-4b3d-a0a0-30b23864dde5"
	body := `{"id":"` + id + `","externalIp":"203.0.113.9","machineName":"eu-01","status":"` + value + `","` + property + `":"Amsterdam"}`
	stored := `"` + property + `":"Amsterdam"`
	status, got := call(t, http.MethodPost, mock.base+"/applications/"+app+"/connectorGroup/members/$ref", body)
	if status != http.StatusCreated || !strings.Contains(got, stored) {
		t.Fatalf("add with location: %d %s", status, got)
	}
	t.Logf("add (201): %s", got)
	long := strings.Replace(body, "Amsterdam", strings.Repeat("x", 70), 1)
	long = strings.Replace(long, id, "7c9e6679-7425-40de-944b-e07fc1f90ae7", 1)
	if status, got := call(t, http.MethodPost, mock.base+"/applications/"+app+"/connectorGroup/members/$ref", long); status != http.StatusBadRequest || !strings.Contains(got, `"target":"/`+property+`"`) {
		t.Errorf("a 70-character location: %d %s", status, got)
	}
	// The validator follows, and its message lists every value, the new one too.
	unknown := strings.Replace(strings.Replace(body, `"`+value+`"`, `"pending"`, 1), id, "9b2f6a8e-4c1d-4e7a-8f3b-2d5c6e7f8a9b", 1)
	if status, got := call(t, http.MethodPost, mock.base+"/applications/"+app+"/connectorGroup/members/$ref", unknown); status != http.StatusBadRequest || !strings.Contains(got, "is not one of "+all) {
		t.Errorf("an unknown status: %d %s, want a 400 listing %s", status, got, all)
	}
	member := "/applications/" + app + "/connectorGroup/members/" + id
	for _, url := range []string{mock.base + member, mock.base + "/applications/" + app + "/connectorGroup/members"} {
		if status, got := call(t, http.MethodGet, url, ""); status != http.StatusOK || !strings.Contains(got, stored) {
			t.Errorf("GET %s: %d %s", url, status, got)
		}
	}
	mock.stop(t)

	mock = startBinary(t, filepath.Join(bin, "connector-mock"), "--state", state)
	defer mock.stop(t)
	status, got = call(t, http.MethodGet, mock.base+member, "")
	if status != http.StatusOK || !strings.Contains(got, stored) {
		t.Fatalf("after a restart with --state: %d %s", status, got)
	}
	t.Logf("get after the restart: %s", got)
	out, err = run(t, dir, filepath.Join(bin, "connectorctl"), "--server", mock.base, "--token", "t", "-o", "json", "get", "--app", app, "--id", id)
	if err != nil || !strings.Contains(out, `"`+property+`": "Amsterdam"`) {
		t.Errorf("connectorctl get -o json: %v\n%s", err, out)
	}
	t.Logf("connectorctl get -o json:\n%s", out)
	cmd := exec.Command("go", "test", "-count=1", "-v", "-run", "Test"+field+"ThroughClient", "./client")
	cmd.Dir = dir
	cmd.Env = append(copyEnv(), "WORKFLOW_MOCK="+mock.base, "WORKFLOW_APP="+app, "WORKFLOW_ID="+id)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the client after the edit: %v\n%s", err, out)
	} else if _, log, ok := strings.Cut(string(out), "client: "); ok {
		log, _, _ = strings.Cut(log, "\n")
		t.Logf("client: %s", log)
	}
}

// call sends an API request with a token and, for a body, its Content-Type
// and Prefer: return=representation, and returns the status and the body.
func call(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer t")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Prefer", "return=representation")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// binaryProcess is a connector-mock built from the copy, running.
type binaryProcess struct {
	cmd    *exec.Cmd
	base   string
	exited chan error
	log    *bytes.Buffer
}

// startBinary starts the mock at path on a port of its choosing and waits
// for the line that says where it listens.
func startBinary(t *testing.T, path string, args ...string) *binaryProcess {
	t.Helper()
	cmd := exec.Command(path, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &binaryProcess{cmd: cmd, exited: make(chan error, 1), log: &bytes.Buffer{}}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		p.exited <- cmd.Wait()
	}()
	select {
	case p.base = <-found:
	case err := <-p.exited:
		t.Fatalf("connector-mock exited before listening: %v", err)
	}
	return p
}

var listening = regexp.MustCompile(`msg=listening addr=(http://[0-9.:]+)`)

// stop ends the mock as Ctrl-C does and waits for it to exit.
func (p *binaryProcess) stop(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := <-p.exited; err != nil {
		t.Errorf("connector-mock stopped with %v", err)
	}
}
