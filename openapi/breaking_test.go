package openapi_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// breakingRepo is a git repository holding a copy of the module, its one
// commit the base `make breaking` compares with.
func breakingRepo(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds oasdiff and makes a git repository")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum", "tools.go", "scripts", "openapi"} {
		copyTree(t, filepath.Join(root, f), filepath.Join(dir, f))
	}
	for _, args := range [][]string{
		{"init", "-q"}, {"add", "."},
		{"-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "the released spec"},
	} {
		if out, err := run(t, dir, "git", args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

// TestBreakingGate: `make breaking` (scripts/breaking.sh) fails on a breaking
// change the version does not acknowledge, and passes otherwise.
func TestBreakingGate(t *testing.T) {
	t.Parallel() // each works in a copy of its own
	dir := breakingRepo(t)
	spec := filepath.Join(dir, "openapi", "connector.yaml")
	original, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	version := func(s string) string {
		_, rest, _ := strings.Cut(s, "\ninfo:\n")
		_, v, _ := strings.Cut(rest, "  version: ")
		v, _, _ = strings.Cut(v, "\n")
		return v
	}(string(original))
	major, err := strconv.Atoi(strings.Split(version, ".")[0])
	if err != nil {
		t.Fatalf("info.version %q: %v", version, err)
	}
	raised := strconv.Itoa(major+1) + ".0.0"
	statuses, added, _, _ := statusEdit(t, string(original))
	values := strings.Split(strings.TrimSuffix(statuses, "]"), ", ")
	removed := strings.Join(values[:len(values)-1], ", ") + "]" // the last status gone
	for _, tc := range []struct {
		name  string
		edits [][2]string
		pass  bool
		want  string
	}{
		{"removing a status", [][2]string{{statuses, removed}}, false, "request-property-enum-value-removed"},
		{"removing a status, major raised", [][2]string{{statuses, removed}, {"  version: " + version, "  version: " + raised}},
			true, "acknowledged"},
		{"adding a status", [][2]string{{statuses, added}}, false, "response-property-enum-value-added"},
		{"an optional response property", [][2]string{{"      required: [status]\n      properties:\n        status:\n          type: string\n          enum: [ok]\n",
			"      required: [status]\n      properties:\n        status:\n          type: string\n          enum: [ok]\n        uptime:\n          type: string\n"}},
			true, "no breaking change"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed := string(original)
			for _, e := range tc.edits {
				if !strings.Contains(changed, e[0]) {
					t.Fatalf("the spec no longer contains %q: update the test", e[0])
				}
				changed = strings.Replace(changed, e[0], e[1], 1)
			}
			if err := os.WriteFile(spec, []byte(changed), 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(spec, original, 0o644)
			out, err := run(t, dir, "bash", "scripts/breaking.sh")
			if (err == nil) != tc.pass || !strings.Contains(out, tc.want) {
				t.Errorf("make breaking: %v, want it to pass: %t and say %q:\n%s", err, tc.pass, tc.want, out)
			}
		})
	}
}
