package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// These tests run the built binary, as a user would, and signal it.

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

func mockBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "connector-mock-test")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "connector-mock")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// process is a running connector-mock.
type process struct {
	cmd    *exec.Cmd
	base   string
	stderr *lockedBuffer
	exited chan error
}

type lockedBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // signalled (without blocking) after each write, once made by waitFor
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.written != nil {
		select {
		case l.written <- struct{}{}:
		default:
		}
	}
	return l.b.Write(p)
}

// waitFor waits, within timeout, until what was written contains s; it is
// woken by the writes, not by polling.
func (l *lockedBuffer) waitFor(s string, timeout time.Duration) bool {
	l.mu.Lock()
	if l.written == nil {
		l.written = make(chan struct{}, 1)
	}
	written := l.written
	l.mu.Unlock()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !strings.Contains(l.String(), s) {
		select {
		case <-written:
		case <-deadline.C:
			return false
		}
	}
	return true
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var listeningLine = regexp.MustCompile(`msg=listening addr=(http://[0-9.:]+)`)

func startMock(t *testing.T, args ...string) *process {
	t.Helper()
	return startMockEnv(t, nil, args...)
}

// startMockEnv is startMock with extra environment variables (KEY=value).
func startMockEnv(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(mockBinary(t), append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr := &lockedBuffer{}
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(stderr, pw)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, stderr: stderr, exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case p.base = <-found:
	case err := <-p.exited:
		t.Fatalf("connector-mock exited before listening: %v\n%s", err, stderr.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("connector-mock did not start:\n%s", stderr.String())
	}
	return p
}

func (p *process) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.exited:
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("connector-mock did not exit:\n%s", p.stderr.String())
		return nil
	}
}

func addRequest(base, app, token string, body io.Reader) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, base+"/applications/"+app+"/connectorGroup/members/$ref", body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return req
}

func memberBody(id, name string) string {
	return `{"id":"` + id + `","externalIp":"192.0.2.44","machineName":"` + name + `","status":"active"}`
}

func listIDs(t *testing.T, base, app, token string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	next := base + "/applications/" + app + "/connectorGroup/members?$top=999"
	for next != "" {
		req, _ := http.NewRequest(http.MethodGet, next, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rsp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Value    []struct{ ID string } `json:"value"`
			NextLink string                `json:"@odata.nextLink"`
		}
		err = json.NewDecoder(rsp.Body).Decode(&page)
		rsp.Body.Close()
		if err != nil || rsp.StatusCode != 200 {
			t.Fatalf("listing: %d %v", rsp.StatusCode, err)
		}
		for _, m := range page.Value {
			if ids[m.ID] {
				t.Errorf("member %s listed twice", m.ID)
			}
			ids[m.ID] = true
		}
		next = page.NextLink
	}
	return ids
}

// TestKillNineKeepsAcknowledgedWrites: every add the server acknowledged is
// on disk, even when the process dies without a chance to flush anything.
func TestKillNineKeepsAcknowledgedWrites(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.db")
	p := startMock(t, "--state", state)
	app := uuid.NewString()
	const adds = 400
	acked := make(chan string, adds)
	var wg sync.WaitGroup
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: transport}
	for range adds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := uuid.NewString()
			rsp, err := client.Do(addRequest(p.base, app, "t", strings.NewReader(memberBody(id, "kill"))))
			if err != nil {
				t.Errorf("add: %v", err)
				return
			}
			rsp.Body.Close()
			if rsp.StatusCode != http.StatusNoContent {
				t.Errorf("add: status %d", rsp.StatusCode)
				return
			}
			acked <- id
		}()
	}
	wg.Wait()
	close(acked)
	transport.CloseIdleConnections()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.wait(t)

	p2 := startMock(t, "--state", state)
	stored := listIDs(t, p2.base, app, "t")
	n := 0
	for id := range acked {
		n++
		if !stored[id] {
			t.Errorf("acknowledged member %s is gone after SIGKILL", id)
		}
	}
	if n != adds || len(stored) != adds {
		t.Errorf("%d acknowledged, %d stored; want %d and %d", n, len(stored), adds, adds)
	}
}

// TestSigtermFinishesInFlight: on SIGTERM a request already being received
// completes and is stored, new connections are refused, the process exits 0,
// and the token never reached the log.
func TestSigtermFinishesInFlight(t *testing.T) {
	const token = "tok-7f3a9c-never-logged"
	state := filepath.Join(t.TempDir(), "state.db")
	p := startMock(t, "--state", state, "--token", token)
	app := uuid.NewString()

	// A wrong token too: neither may be logged.
	wrong, _ := http.DefaultClient.Do(addRequest(p.base, app, "wrong-"+token, strings.NewReader("{}")))
	if wrong == nil || wrong.StatusCode != 401 {
		t.Fatalf("wrong token: %v", wrong)
	}
	wrong.Body.Close()

	// Load: clients adding as fast as they can until the server stops answering.
	var loadWG sync.WaitGroup
	loadAcked := make(chan string, 1<<16)
	for range 8 {
		loadWG.Add(1)
		go func() {
			defer loadWG.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for {
				id := uuid.NewString()
				rsp, err := client.Do(addRequest(p.base, app, token, strings.NewReader(memberBody(id, "load"))))
				if err != nil {
					return // the server has stopped accepting
				}
				rsp.Body.Close()
				switch rsp.StatusCode {
				case http.StatusNoContent:
					loadAcked <- id
				default:
					t.Errorf("an add under load got %d", rsp.StatusCode)
					return
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)

	// Start a request whose body arrives slowly: it is in flight when SIGTERM comes.
	id := uuid.NewString()
	body := memberBody(id, "in-flight")
	pr, pw := io.Pipe()
	result := make(chan *http.Response, 1)
	errc := make(chan error, 1)
	go func() {
		rsp, err := http.DefaultClient.Do(addRequest(p.base, app, token, pr))
		if err != nil {
			errc <- err
			return
		}
		result <- rsp
	}()
	if _, err := pw.Write([]byte(body[:10])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server is now reading the body
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New connections are refused while the old one finishes.
	host := strings.TrimPrefix(p.base, "http://")
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", host, 200*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 5s after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := pw.Write([]byte(body[10:])); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	select {
	case rsp := <-result:
		rsp.Body.Close()
		if rsp.StatusCode != http.StatusNoContent {
			t.Errorf("the in-flight add got %d, want 204", rsp.StatusCode)
		}
	case err := <-errc:
		t.Fatalf("the in-flight add failed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight add got no answer")
	}
	if err := p.wait(t); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0\n%s", err, p.stderr.String())
	}
	loadWG.Wait()
	close(loadAcked)
	logs := p.stderr.String()
	if strings.Contains(logs, token) {
		t.Errorf("the token appears in the log:\n%s", logs)
	}
	if !strings.Contains(logs, "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", logs)
	}

	p2 := startMock(t, "--state", state, "--token", token)
	stored := listIDs(t, p2.base, app, token)
	if !stored[id] {
		t.Error("the in-flight add was acknowledged but is not in the state after restart")
	}
	n := 0
	for acked := range loadAcked {
		n++
		if !stored[acked] {
			t.Errorf("add %s was acknowledged under load but is gone after the restart", acked)
		}
	}
	if n == 0 {
		t.Error("the load made no acknowledged adds; the test proves nothing about them")
	}
	t.Logf("%d adds acknowledged under load before SIGTERM, all found after restart", n)
}

// TestMemoryModeTouchesNoDisk: without --state the server writes no file.
func TestMemoryModeTouchesNoDisk(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(mockBinary(t), "--addr", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+dir, "HOME="+dir)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := listeningLine.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("did not start:\n%s", stderr.String())
	}
	app := uuid.NewString()
	for range 20 {
		rsp, err := http.DefaultClient.Do(addRequest(base, app, "t", strings.NewReader(memberBody(uuid.NewString(), "m"))))
		if err != nil || rsp.StatusCode != http.StatusNoContent {
			t.Fatalf("add: %v %v", rsp, err)
		}
		rsp.Body.Close()
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("the in-memory server wrote %s", e.Name())
	}
}

// TestBadStateFileStopsStartup: the binary refuses a corrupt file, names it,
// exits non-zero, and leaves it as it was.
func TestBadStateFileStopsStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	junk := bytes.Repeat([]byte("not a database "), 3000)
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(mockBinary(t), "--addr", "127.0.0.1:0", "--state", path).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1\n%s", err, out)
	}
	if !strings.Contains(string(out), path) || strings.Contains(string(out), "msg=listening") {
		t.Errorf("the message does not name the file, or the server started anyway:\n%s", out)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(after, junk) {
		t.Error("the refused file was modified")
	}
}

// TestStateThatIsNoFileStopsStartup: --state naming a directory or a device
// says so, instead of a message about bbolt or locks.
func TestStateThatIsNoFileStopsStartup(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{t.TempDir(), "is a directory"},
		{"/dev/null", "is not a regular file but a character device"},
	} {
		if _, err := os.Stat(tc.path); err != nil {
			t.Skipf("%s: %v", tc.path, err)
		}
		out, err := exec.Command(mockBinary(t), "--addr", "127.0.0.1:0", "--state", tc.path).CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Fatalf("--state %s: %v, want exit status 1\n%s", tc.path, err, out)
		}
		if !strings.Contains(string(out), tc.path) || !strings.Contains(string(out), tc.want) {
			t.Errorf("--state %s: the message does not say %q:\n%s", tc.path, tc.want, out)
		}
	}
}

// TestSeededRunsRepeat: two runs of the binary with --seed 7 --fault-rate
// 0.5 answer the same sequence of adds with the same statuses, and the log
// names the faults. (That the answers do not depend on the requests' timing,
// server's TestSeededFaultsIgnoreTiming shows on synctest's clock.)
func TestSeededRunsRepeat(t *testing.T) {
	t.Parallel()
	run := func() []int {
		p := startMock(t, "--seed", "7", "--fault-rate", "0.5")
		var out []int
		for range 20 {
			req := addRequest(p.base, "0f8fad5b-d9cb-469f-a165-70867728950e", "one-caller",
				strings.NewReader(memberBody(uuid.NewString(), "m")))
			rsp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			rsp.Body.Close()
			out = append(out, rsp.StatusCode)
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		_ = p.wait(t)
		if !strings.Contains(p.stderr.String(), "fault=") {
			t.Errorf("the log names no fault:\n%s", p.stderr.String())
		}
		return out
	}
	fast, again := run(), run()
	t.Logf("--seed 7 --fault-rate 0.5: %v", fast)
	if !slices.Equal(fast, again) {
		t.Errorf("--seed 7 answered\n%v\nand then\n%v", fast, again)
	}
	if !slices.Contains(fast, http.StatusNoContent) || slices.Equal(slices.Compact(slices.Clone(fast)), []int{http.StatusNoContent}) {
		t.Errorf("20 adds at a fault rate of 0.5 answered %v", fast)
	}
}

// TestSeedingHoldsThePortAndHonoursSignals: while a large seed file loads,
// the port is not open (a readiness check that connects is not fooled), and
// SIGTERM stops the mock there, exit 0, before it ever listens.
func TestSeedingHoldsThePortAndHonoursSignals(t *testing.T) {
	bin := mockBinary(t)
	var seed bytes.Buffer
	seed.WriteString(`{"applications":[`)
	for a := range 100 {
		if a > 0 {
			seed.WriteByte(',')
		}
		fmt.Fprintf(&seed, `{"id":"%s","members":[`, uuid.NewString())
		for m := range 1000 {
			if m > 0 {
				seed.WriteByte(',')
			}
			fmt.Fprintf(&seed, `{"externalIp":"192.0.2.%d","machineName":"seed-%d-%d","status":"active"}`, m%250+1, a, m)
		}
		seed.WriteString(`]}`)
	}
	seed.WriteString(`]}`)
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, seed.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	cmd := exec.Command(bin, "--addr", addr, "--seed-file", path)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	// "seeding" is logged once the signals are the mock's (a SIGTERM before
	// that is the default action's, and a busy machine can take a while to
	// get there).
	if !stderr.waitFor("msg=seeding", 20*time.Second) {
		t.Fatalf("no seeding logged within 20s:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "msg=seeded") {
		t.Skipf("%d bytes of seed loaded before the port could be tried; nothing to observe", seed.Len())
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("the port accepts connections while the seed file loads:\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM while seeding: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("SIGTERM while seeding: still running after 30s\n%s", stderr.String())
	}
	if out := stderr.String(); !strings.Contains(out, "stopped before listening") || strings.Contains(out, "msg=listening") {
		t.Errorf("want a stop before listening:\n%s", out)
	}
}
