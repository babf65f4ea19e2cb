package readmetest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// block is one fenced code block of the README.
type block struct {
	lang   string
	line   int    // where it starts
	marker string // the HTML comment on the line before, if any
	code   string
}

func readme(t *testing.T) []block {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []block
	var cur *block
	prev := ""
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```") && len(line) > 3:
			cur = &block{lang: line[3:], line: i + 1}
			if strings.HasPrefix(prev, "<!--") {
				cur.marker = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(prev, "<!--"), "-->"))
			}
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.code += line + "\n"
		}
		prev = line
	}
	return blocks
}

// normalize drops indentation and surrounding blank lines.
func normalize(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		lines = append(lines, strings.TrimSpace(l))
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// TestGoBlocksAreCompiledCode: every Go block is marked with the file and
// function it comes from (<!-- path Func -->), and is that function's code
// between its "README begin" and "README end" comments (or the whole
// function around that code): code that
// `go vet` and `make test` compile and run.
func TestGoBlocksAreCompiledCode(t *testing.T) {
	n := 0
	for _, b := range readme(t) {
		if b.lang != "go" {
			continue
		}
		n++
		path, fn, ok := strings.Cut(b.marker, " ")
		if !ok {
			t.Errorf("README line %d: a Go block without <!-- path Function --> before it", b.line)
			continue
		}
		source, err := os.ReadFile(filepath.Join("../..", path))
		if err != nil {
			t.Errorf("README line %d: %v", b.line, err)
			continue
		}
		_, body, ok1 := strings.Cut(string(source), "\nfunc "+fn+"(")
		_, region, ok2 := strings.Cut(body, "\t// README begin\n")
		region, _, ok3 := strings.Cut(region, "\t// README end\n")
		if !ok1 || !ok2 || !ok3 {
			t.Errorf("README line %d: %s has no func %s with README begin and end markers", b.line, path, fn)
			continue
		}
		code := normalize(b.code)
		if strings.HasPrefix(code, "func "+fn+"(") && strings.HasSuffix(code, "\n}") {
			// The block shows the whole function: its body is the region.
			code = code[strings.Index(code, "\n")+1 : len(code)-2]
		}
		if normalize(region) != normalize(code) {
			t.Errorf("README line %d differs from %s %s; copy it from there:\n%s", b.line, path, fn, region)
		}
	}
	if n == 0 {
		t.Fatal("no Go block found")
	}
}

// skipped are the shell lines the runner does not run, and why.
var skipped = []struct {
	prefix, why string
}{
	{"make test", "it runs this test"},
	{"make generate", "make check-generate covers it"},
	{"$EDITOR", "an editor"},
	{"docker run", "make image-test starts the image"},
	{"connector-mock --proxy", "it needs the real service; TestProxy* in ./server runs the proxy against upstreams of its own"},
	{"connectorctl --token admin-secret", "it reads the journal of the proxy above"},
}

// readmeBin finds the README's bin/ at the start of a path.
var readmeBin = regexp.MustCompile(`(^|[\s(=])bin/`)

// startsMock tells whether a line starts the mock in the foreground, and
// with which flags.
var startsMock = regexp.MustCompile(`^(?:make run|go run \./cmd/connector-mock)((?: +--?[a-z-]+(?: +[^-#][^ ]*)?)*)\s*(?:#.*)?$`)

// TestShellBlocksRun runs every shell block of the README in order, in the
// repository, with a HOME of its own, against a mock started as the README
// starts it (on a free port written where the README writes 8080). A block
// fails on a command that fails, or on an HTTP status of 400 or more that
// its comments do not announce.
func TestShellBlocksRun(t *testing.T) {
	if testing.Short() {
		t.Skip("clones the repository and builds the binaries")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	// The repository itself, as a fresh clone has it: the blocks write only
	// into bin/ (a directory of the test's, see below) and into HOME, another.
	// (A clone of its own cost a minute more here: its builds, under another
	// path, miss the build cache.)
	clone, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	// HOME is the test's, but Go's caches stay the user's: GOPATH, the module
	// cache and the build cache default to places under HOME.
	var goEnv []string
	for _, name := range []string{"GOPATH", "GOMODCACHE", "GOCACHE"} {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		goEnv = append(goEnv, name+"="+strings.TrimSpace(string(out)))
	}
	// The README's bin/ is a directory of the test's: a test run never
	// overwrites the binaries a user built there.
	binDir := t.TempDir()
	build := exec.Command("go", "build", "-o", binDir+"/", "./cmd/connector-mock")
	build.Dir = clone
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	state := filepath.Join(home, "readme-vars.sh")
	var mock *exec.Cmd
	stopMock := func() {
		if mock != nil {
			_ = mock.Process.Signal(os.Interrupt)
			_ = mock.Wait()
			mock = nil
		}
	}
	t.Cleanup(stopMock)
	startMock := func(flags string) {
		stopMock()
		mock = exec.Command(filepath.Join(binDir, "connector-mock"), append([]string{"--addr", addr}, strings.Fields(flags)...)...)
		mock.Dir = clone
		if err := mock.Start(); err != nil {
			t.Fatal(err)
		}
		for range 100 {
			if rsp, err := http.Get("http://" + addr + "/healthz"); err == nil {
				rsp.Body.Close()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("the mock with %q did not start", flags)
	}

	ran := 0
	for _, b := range readme(t) {
		if b.lang != "sh" {
			continue
		}
		// The lines run in order: the commands before a line that starts the
		// mock run before it is (re)started.
		var script []string
		runScript := func() {
			if len(script) == 0 {
				return
			}
			ran++
			code := strings.Join(script, "\n")
			script = nil
			bash := exec.Command("bash", "-c", fmt.Sprintf("set -a; set -eo pipefail; [ -f %[1]q ] && . %[1]q\n%s\nexport -p > %[1]q", state, code))
			bash.Dir = clone
			// The mock runs on a free port, written where the README writes 8080;
			// connectorctl's default server is 8080 too, so it is pointed there.
			bash.Env = append(append(os.Environ(), goEnv...), "HOME="+home, "CONNECTORCTL_SERVER=http://"+addr)
			bash.WaitDelay = 2 * time.Minute
			began := time.Now()
			out, err := bash.CombinedOutput()
			t.Logf("README line %d (%s):\n%s\n--- its output:\n%s", b.line, time.Since(began).Round(time.Millisecond), prefixed(code), out)
			if err != nil {
				t.Errorf("README line %d: the block fails: %v", b.line, err)
			}
			for _, status := range failedStatuses(out) {
				if !strings.Contains(code, "# "+status) && !strings.Contains(code, ": "+status) && !regexp.MustCompile(`#[^\n]*\b`+status+`\b`).MatchString(code) {
					t.Errorf("README line %d: an answer of %s that no comment of the block announces", b.line, status)
				}
			}
		}
		continued := false // the line before was skipped and ends in a backslash
		for _, line := range strings.Split(strings.TrimRight(b.code, "\n"), "\n") {
			trimmed := strings.TrimSpace(line)
			if continued {
				continued = strings.HasSuffix(trimmed, "\\")
				continue
			}
			if m := startsMock.FindStringSubmatch(trimmed); m != nil && !strings.Contains(trimmed, "--help") {
				runScript()
				began := time.Now()
				startMock(m[1])
				t.Logf("README line %d: $ %s  (started in the background, %s)", b.line, trimmed, time.Since(began).Round(time.Millisecond))
				continue
			}
			skip := ""
			for _, s := range skipped {
				if strings.HasPrefix(trimmed, s.prefix) {
					skip = s.why
				}
			}
			if skip != "" {
				t.Logf("README line %d: $ %s  (not run: %s)", b.line, trimmed, skip)
				continued = strings.HasSuffix(trimmed, "\\")
				continue
			}
			line = readmeBin.ReplaceAllString(line, "${1}"+binDir+"/")
			script = append(script, strings.ReplaceAll(line, "127.0.0.1:8080", addr))
		}
		runScript()
	}
	if ran == 0 {
		t.Fatal("no shell block ran")
	}
}

func prefixed(code string) string {
	var b strings.Builder
	for _, l := range strings.Split(code, "\n") {
		b.WriteString("$ " + l + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// failedStatuses are the HTTP statuses of 400 or more in a block's output:
// curl -i's status lines and curl -w's bare codes.
func failedStatuses(out []byte) []string {
	var statuses []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	statusLine := regexp.MustCompile(`^HTTP/[0-9.]+ ([0-9]{3})`)
	bare := regexp.MustCompile(`^([0-9]{3})$`)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		for _, re := range []*regexp.Regexp{statusLine, bare} {
			if m := re.FindStringSubmatch(line); m != nil && m[1] >= "400" {
				statuses = append(statuses, m[1])
			}
		}
	}
	return statuses
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
