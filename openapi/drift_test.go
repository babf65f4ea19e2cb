package openapi_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckGenerateCatchesDrift proves `make check-generate` (the script
// behind it) fails, naming the stale file, once the spec changes without
// `make generate`. That it passes on the committed tree is what CI's own
// make check-generate shows.
func TestCheckGenerateCatchesDrift(t *testing.T) {
	t.Parallel() // each works in a copy of its own
	if testing.Short() {
		t.Skip("builds the generator")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum", "tools.go", "scripts", "generated", "openapi", "internal"} {
		copyTree(t, filepath.Join(root, f), filepath.Join(dir, f))
	}
	check := func() (string, error) {
		cmd := exec.Command("bash", "scripts/check-generate.sh")
		cmd.Dir = dir
		cmd.Env = copyEnv()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	spec := filepath.Join(dir, "openapi", "connector.yaml")
	data, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	line, edited, _, _ := statusEdit(t, string(data))
	changed := strings.Replace(string(data), line, edited, 1)
	if err := os.WriteFile(spec, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := check()
	if err == nil {
		t.Fatalf("check-generate passed after the spec changed:\n%s", out)
	}
	if !strings.Contains(out, "generated/validation/validation.gen.go is stale") {
		t.Errorf("check-generate failed without naming the stale file:\n%s", out)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		target := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode())
	})
	if err != nil {
		t.Fatal(err)
	}
}
