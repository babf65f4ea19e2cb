package server_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/store"
)

// hostileSeeds are seed files built to cost the most per byte, of about n
// bytes each: one mapping of distinct keys (yaml.v3 compares every pair of
// a mapping's keys), in JSON and in YAML's flow and block styles.
var hostileSeeds = []struct {
	name, ext string
	build     func(n int) string
	want      string
}{
	{"JSON entry of distinct names", "json", func(n int) string {
		var b strings.Builder
		b.WriteString(`{"connectors":[{`)
		for i := 0; b.Len() < n-16; i++ {
			fmt.Fprintf(&b, `"k%d":0,`, i)
		}
		b.WriteString(`"z":0}]}`)
		return b.String()
	}, `connectors[0]: /k0: property "k0" is not allowed`},
	{"JSON group of distinct names", "json", func(n int) string {
		var b strings.Builder
		b.WriteString(`{"connectorGroups":[{"name":"g",`)
		for i := 0; b.Len() < n-16; i++ {
			fmt.Fprintf(&b, `"k%d":0,`, i)
		}
		b.WriteString(`"z":0}]}`)
		return b.String()
	}, `connectorGroups[0]: /k0: property "k0" is not allowed`},
	{"YAML flow mapping", "yaml", func(n int) string {
		var b strings.Builder
		b.WriteString("connectors: [{")
		for i := 0; b.Len() < n-16; i++ {
			fmt.Fprintf(&b, "k%d: 0, ", i)
		}
		b.WriteString("z: 0}]\n")
		return b.String()
	}, "a mapping of"},
	{"YAML block mapping", "yaml", func(n int) string {
		var b strings.Builder
		b.WriteString("connectors:\n  - ")
		for i := 0; b.Len() < n-16; i++ {
			fmt.Fprintf(&b, "k%d: 0\n    ", i)
		}
		b.WriteString("z: 0\n")
		return b.String()
	}, "a mapping of"},
}

// hostileFraction: TestHostileSeedFilesAreLinear reads files of this
// fraction of the largest size. A quarter tells linear from quadratic as
// well, and make test reads 10 MB instead of 74; make fuzz reads them whole.
var hostileFraction = flag.Int("hostile.fraction", 4, "TestHostileSeedFilesAreLinear reads files of 1/N of the largest size")

// TestHostileSeedFilesAreLinear: each hostile seed file, at the largest
// size its format may have (32 MiB for JSON, 4 MiB for YAML; a quarter of
// that unless -hostile.fraction=1), is refused,
// saying why, at a cost of at most 8 times the same file at a sixteenth of
// the size read 16 times (linear is about 1, quadratic 16), timed beside it;
// a 32 MiB YAML file is refused before it is parsed. yaml.v3 took 26-53 s on
// 80,000 keys, and a 31 MB flow mapping did not finish in 148 s.
func TestHostileSeedFilesAreLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 32 MiB files")
	}
	measuresCost(t)
	dir := t.TempDir()
	seed := func(name, content string) (time.Duration, error) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err := server.Seed(context.Background(), store.NewMemory(), path)
		return time.Since(start), err
	}
	for _, tc := range hostileSeeds {
		size := 32<<20 - 64
		if tc.ext == "yaml" {
			size = 4<<20 - 64
		}
		size /= *hostileFraction
		whole, err := seed("whole."+tc.ext, tc.build(size))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: %v, want it to say %q", tc.name, err, tc.want)
		}
		small := tc.build(size / 16)
		var sixteenths time.Duration
		for range 16 {
			took, _ := seed("small."+tc.ext, small)
			sixteenths += took
		}
		t.Logf("%-28s %8d bytes: %v (a sixteenth, 16 times: %v)", tc.name, size, whole, sixteenths)
		if whole > 8*sixteenths {
			t.Errorf("%s: %v at the limit, %v for 16 files of a sixteenth: more than linear", tc.name, whole, sixteenths)
		}
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(hostileSeeds[2].build(32<<20-64)), 0o600); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := server.Seed(context.Background(), store.NewMemory(), big)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "write it as JSON") || after.TotalAlloc-before.TotalAlloc > 40<<20 {
		t.Errorf("a 32 MiB YAML file: %v after %d MB allocated; want it refused before it is parsed", err, (after.TotalAlloc-before.TotalAlloc)>>20)
	}
}

// TestSeedFileForms: JSON is read as JSON (its mistakes named with the byte
// where they are), a YAML flow mapping that begins with { as YAML, and the
// file's own structure is checked as strictly in both.
func TestSeedFileForms(t *testing.T) {
	app := "6f1b8a52-8c1e-4f7a-9c43-2b1d7e0a5c11"
	member := `{"externalIp":"203.0.113.7","machineName":"eu-01","status":"active"}`
	for _, tc := range []struct{ name, content, want string }{
		{"JSON", `{"applications":[{"id":"` + app + `","members":[` + member + `]}],"connectors":null}`, ""},
		{"YAML flow style", `{applications: [{id: ` + app + `, members: [` + member + `]}]}`, ""},
		{"JSON cut short", `{"applications":[{"id":"` + app + `","members":[`, "not JSON: at byte"},
		{"JSON with an unknown field", `{"apps":[]}`, `field "apps" not found`},
		{"JSON application with an unknown field", `{"applications":[{"id":"` + app + `","colour":"red"}]}`, `an application has no field "colour"`},
		{"JSON with a list given twice", `{"applications":[],"applications":[]}`, `the file has "applications" twice`},
		{"JSON group id given twice", `{"connectorGroups":[{"id":"` + app + `","name":"g","id":"` + app + `"}]}`, `a connector group has "id" twice`},
		{"JSON group property given twice", `{"connectorGroups":[{"name":"g","name":"h"}]}`, `a connector group has "name" twice`},
		{"JSON list that is no list", `{"connectors":{}}`, "a list is an object, not an array"},
		{"JSON with garbage after it", `{"connectors":[]} ]`, "at byte"},
	} {
		path := filepath.Join(t.TempDir(), "seed")
		if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		members := store.NewMemory()
		_, err := server.Seed(context.Background(), members, path)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want == "" && members.Members() != 1:
			t.Errorf("%s: %d members seeded, want 1", tc.name, members.Members())
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want it to say %q", tc.name, err, tc.want)
		}
	}
}
