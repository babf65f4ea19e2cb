package openapi_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
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
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// degradedTest is a test a maintainer might write after the edit; it uses
// the new constant, so it also shows the client's models followed.
const degradedTest = `package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server"
)

func TestDegradedFollows(t *testing.T) {
	h, err := server.New(server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	body := ` + "`" + `{"externalIp":"203.0.113.7","machineName":"m","status":"` + "`" + ` + string(generated.ConnectorStatusDegraded) + ` + "`" + `"}` + "`" + `
	req := httptest.NewRequest(http.MethodPost, "/applications/0f8fad5b-d9cb-469f-a165-70867728950e/connectorGroup/members/$ref", strings.NewReader(body))
	req.Host = "127.0.0.1:8080" // httptest's example.com is no host the mock answers
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("status degraded: %d %s", rec.Code, rec.Body)
	}
}
`

// TestRegenerateWorkflow is README's Workflow 1 as a maintainer runs it: add
// degraded to connectorStatus, regenerate, and the server's validator, the
// client's models and the CLI's help follow with no other edit.
func TestRegenerateWorkflow(t *testing.T) {
	dir := module(t)
	editSpec(t, dir, "enum: [active, inactive]", "enum: [active, inactive, degraded]")
	if out, err := run(t, dir, "go", "generate", "./generated/..."); err != nil {
		t.Fatalf("go generate: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "server", "degraded_test.go"), []byte(degradedTest), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, dir, "go", "test", "-count=1", "-run", "TestDegradedFollows|TestErrorTable", "./server"); err != nil {
		t.Fatalf("the server after the edit: %v\n%s", err, out)
	}
	out, err := run(t, dir, "go", "run", "./cmd/connectorctl", "add", "--help")
	if !strings.Contains(out, "active, inactive, degraded") {
		t.Errorf("connectorctl add --help does not list degraded (%v):\n%s", err, out)
	}
}

// TestUnsupportedKeywordFailsGeneration: a keyword the validator generator
// does not implement stops `make generate`, naming the keyword and where the
// schema is, rather than leaving the rule unchecked.
func TestUnsupportedKeywordFailsGeneration(t *testing.T) {
	dir := module(t)
	for _, tc := range []struct {
		old, new, want string
	}{
		{"          minLength: 1\n          maxLength: 255\n", "          minLength: 1\n          maxLength: 255\n          not: {enum: [localhost]}\n",
			`#/components/schemas/connector.properties.machineName: keyword "not" is not implemented`},
		{"          format: uuid\n          description: The connector's id.", "          format: email\n          description: The connector's id.",
			`format "email"`},
	} {
		original, err := os.ReadFile(filepath.Join(dir, "openapi", "connector.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		editSpec(t, dir, tc.old, tc.new)
		out, err := run(t, dir, "go", "generate", "./generated/...")
		if err == nil {
			t.Errorf("go generate succeeded with %q in the spec", strings.TrimSpace(tc.new))
		} else if !strings.Contains(out, tc.want) {
			t.Errorf("go generate failed without naming %q:\n%s", tc.want, out)
		}
		if err := os.WriteFile(filepath.Join(dir, "openapi", "connector.yaml"), original, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
