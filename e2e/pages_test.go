//go:build e2e

// Package e2e drives the mock's pages in a real headless Chromium (Debian's
// chromium package) with chromedp: `make e2e`. It is behind the e2e build
// tag, so that `make test` needs only Go.
package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/connector-group/members-api/server"
)

// browser starts a headless Chromium for t.
func browser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("no chromium on PATH (apt-get install chromium): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900))
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The browser lives as long as the context of the first call: start it
	// here, on the test's, not on a step's that ends with the step.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// screenshot writes the page to bin/e2e/name.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "bin", "e2e")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: bin/e2e/%s (%d bytes)", name, len(png))
}

// step runs one named step within 15 s; on failure it saves a screenshot
// (bin/e2e/failed.png) and fails t naming the step.
func step(t *testing.T, ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	stepCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(stepCtx, actions...); err != nil {
		screenshot(t, ctx, "failed.png")
		t.Fatalf("%s: %v", name, err)
	}
}

// waitFor polls the page until the JavaScript condition holds, within 15 s:
// the dashboard builds its rows with script, which chromedp's WaitVisible
// does not see appear.
func waitFor(t *testing.T, ctx context.Context, name, condition string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](condition, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		screenshot(t, ctx, "failed.png")
		t.Fatalf("%s: %v", name, err)
	}
}

// TestPagesInChromium: the API reference's "Try it out" adds a member
// (204); the dashboard shows that add and the application, sets a fault that
// the next API call meets (503, in the journal), and resets everything.
func TestPagesInChromium(t *testing.T) {
	const token = "e2e-token"
	mock, err := server.New(server.Config{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mock)
	defer srv.Close()
	ctx := browser(t)
	app := uuid.NewString()
	add := "#operations-members-addConnectorGroupMember" // the operationId of openapi/connector.yaml, which /openapi.json serves

	// The reference: authorise once, then Try it out on the add.
	step(t, ctx, "open /docs", chromedp.Navigate(srv.URL+"/docs"), chromedp.WaitVisible(`.swagger-ui .info .title`))
	step(t, ctx, "open Authorize", chromedp.Click(`.swagger-ui button.authorize`), chromedp.WaitVisible(`.modal-ux .auth-container input`))
	step(t, ctx, "authorise", chromedp.SendKeys(`.modal-ux .auth-container input`, token),
		chromedp.Click(`.modal-ux button.modal-btn.auth.authorize`), chromedp.Click(`.modal-ux button.btn-done`))
	step(t, ctx, "expand the add", chromedp.Click(add+` .opblock-summary-control`), chromedp.WaitVisible(add+` .try-out__btn`))
	step(t, ctx, "try it out", chromedp.Click(add+` .try-out__btn`),
		chromedp.SendKeys(add+` tr[data-param-name="applicationsId"] input`, app))
	step(t, ctx, "execute", chromedp.Click(add+` .execute`), chromedp.WaitVisible(add+` .live-responses-table tr.response .response-col_status`))
	status, err := chromedp.Run(ctx, chromedp.Text(add+` .live-responses-table tr.response .response-col_status`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status, "204") {
		t.Fatalf("Try it out answered %q, want 204", status)
	}
	screenshot(t, ctx, "docs.png")

	// The dashboard: it asks for the token, then shows the add and the application.
	step(t, ctx, "open /_admin/", chromedp.Navigate(srv.URL+"/_admin/"))
	waitFor(t, ctx, "see the token prompt", `!document.querySelector("#auth").hidden`)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(
		`(() => { document.querySelector("#token").value = %q; document.querySelector("#auth-form").requestSubmit(); return true })()`, token))); err != nil {
		t.Fatalf("give the token: %v", err)
	}
	waitFor(t, ctx, "see the add", `document.querySelector('#journal tr[data-operation="addConnectorGroupMember"][data-status="204"]') !== null`)
	apps, err := chromedp.Run(ctx, chromedp.Text(`#apps`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(apps, app) || !strings.Contains(apps, "1") {
		t.Errorf("applications %q, want %s with 1 member", apps, app)
	}
	screenshot(t, ctx, "dashboard.png")

	// A fault rate of 1 with code 503, set in the form: the next call fails, and the journal says so.
	err = chromedp.Do(ctx, chromedp.SetValue(`#faults input[name=faultRate]`, "1"))
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](
			`(() => { for (const b of document.querySelectorAll("#faults input[name=code]")) b.checked = b.value === "503"; return true })()`))
	}
	if err == nil {
		err = chromedp.Do(ctx, chromedp.Click(`#faults button[type=submit]`))
	}
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#status").textContent.includes("applied")`,
			chromedp.WithPollingTimeout(10*time.Second)))
	}
	if err != nil {
		t.Fatalf("the fault form: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/applications/"+app+"/connectorGroup/members", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rsp.Body.Close()
	if rsp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("the call after setting the fault: %d, want 503", rsp.StatusCode)
	}
	waitFor(t, ctx, "see the 503", `document.querySelector('#journal tr[data-status="503"]') !== null`)
	fault, err := chromedp.Run(ctx, chromedp.Text(`#journal tr[data-status="503"]`))
	if err != nil || !strings.Contains(fault, "injected 503") {
		t.Fatalf("the 503 in the journal: %q, %v", fault, err)
	}
	screenshot(t, ctx, "dashboard-fault.png")

	// Scoped in the form: only listConnectors, for the next request. The
	// members are served, one listing of connectors fails, the next is served.
	err = chromedp.Do(ctx, chromedp.SetValue(`#faults input[name=operations]`, "listConnectors"))
	if err == nil {
		err = chromedp.Do(ctx, chromedp.SetValue(`#faults input[name=remaining]`, "1"))
	}
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { document.querySelector("#status").textContent = ""; return true })()`))
	}
	if err == nil {
		err = chromedp.Do(ctx, chromedp.Click(`#faults button[type=submit]`))
	}
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#status").textContent.includes("applied")`,
			chromedp.WithPollingTimeout(10*time.Second)))
	}
	if err != nil {
		t.Fatalf("the scoped fault form: %v", err)
	}
	for i, tc := range []struct {
		path   string
		status int
	}{
		{"/applications/" + app + "/connectorGroup/members", 200},
		{"/onPremisesPublishingProfiles/applicationProxy/connectors", 503},
		{"/onPremisesPublishingProfiles/applicationProxy/connectors", 200},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rsp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rsp.Body.Close()
		if rsp.StatusCode != tc.status {
			t.Errorf("call %d after the scoped fault, %s: %d, want %d", i+1, tc.path, rsp.StatusCode, tc.status)
		}
	}

	// Reset everything, the confirmation answered yes: the journal and the applications are empty.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`(() => { window.confirm = () => true; document.querySelector("#reset-all").click(); return true })()`)); err != nil {
		t.Fatalf("reset: %v", err)
	}
	waitFor(t, ctx, "see everything reset",
		`document.querySelectorAll("#journal tr").length === 0 && document.querySelector("#apps").textContent.includes("none yet")`)
	// A mock that accepts any token: the dashboard works without asking.
	open, err := server.New(server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	openSrv := httptest.NewServer(open)
	defer openSrv.Close()
	step(t, ctx, "open a tokenless /_admin/", chromedp.Navigate(openSrv.URL+"/_admin/"))
	waitFor(t, ctx, "no token asked", `document.querySelector("#auth").hidden && document.querySelector("#apps").textContent.includes("none yet")`)
	screenshot(t, ctx, "dashboard-fresh.png")
	fmt.Fprintln(os.Stderr, "e2e: reference and dashboard driven in Chromium")
}

// TestDashboardCannotBeFramed: a page of another origin (another port)
// that frames /_admin/ gets nothing rendered: X-Frame-Options and the CSP's
// frame-ancestors stop the browser, so the dashboard's script never runs
// (it would load /_admin/applications at once, as it does when opened
// directly: the control).
func TestDashboardCannotBeFramed(t *testing.T) {
	mock, err := server.New(server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var scriptCalls atomic.Int32
	mockSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_admin/applications" {
			scriptCalls.Add(1)
		}
		mock.ServeHTTP(w, r)
	}))
	defer mockSrv.Close()
	framer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>a decoy</title><iframe id="f" src="%s/_admin/" width="900" height="600"></iframe>`, mockSrv.URL)
	}))
	defer framer.Close()
	ctx := browser(t)

	step(t, ctx, "open a page of another origin that frames the dashboard", chromedp.Navigate(framer.URL))
	waitFor(t, ctx, "the frame to settle", `document.readyState === "complete"`)
	time.Sleep(2 * time.Second) // the dashboard's script calls at once; give it every chance
	if n := scriptCalls.Load(); n != 0 {
		t.Fatalf("the framed dashboard ran its script (%d calls): it was rendered inside another origin's page", n)
	}
	screenshot(t, ctx, "dashboard-framed.png")

	step(t, ctx, "open the dashboard itself (the control)", chromedp.Navigate(mockSrv.URL+"/_admin/"))
	waitFor(t, ctx, "its script to run", `document.querySelector("#apps").textContent.includes("none yet")`)
	if scriptCalls.Load() == 0 {
		t.Fatal("opened directly, the dashboard made no call: the check above proves nothing")
	}
	fmt.Fprintln(os.Stderr, "e2e: the dashboard refused to be framed by another origin")
}

// TestRebindingIsRefused: a page served under a name of the attacker's that
// DNS resolves to 127.0.0.1 (here Chromium's --host-resolver-rules) is the
// mock's own origin to the browser: without the Host check its script could
// read the journal and reset the mock. The mock answers it 403, the page
// itself, its fetches of the API and of the admin API alike.
func TestRebindingIsRefused(t *testing.T) {
	mock, err := server.New(server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mock)
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	ctx := browser(t, chromedp.Flag("host-resolver-rules", "MAP rebound.example 127.0.0.1"))
	evil := "http://rebound.example:" + port

	step(t, ctx, "open the mock under the rebound name", chromedp.Navigate(evil+"/_admin/"))
	waitFor(t, ctx, "the 403 envelope", `document.body.innerText.includes('"code":"Forbidden"')`)
	statuses, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`Promise.all([
		fetch("/_admin/requests", {headers: {Authorization: "Bearer any"}}).then(r => r.status),
		fetch("/_admin/reset", {method: "POST", headers: {Authorization: "Bearer any"}}).then(r => r.status),
		fetch("/applications/`+uuid.NewString()+`/connectorGroup/members", {headers: {Authorization: "Bearer any"}}).then(r => r.status),
	])`, chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if len(statuses) != 3 || statuses[0] != 403 || statuses[1] != 403 || statuses[2] != 403 {
		t.Fatalf("the rebound page's fetches answered %v, want 403 each", statuses)
	}
	screenshot(t, ctx, "rebound.png")
	// The control: the same mock on 127.0.0.1 answers the same page.
	step(t, ctx, "open the mock on 127.0.0.1", chromedp.Navigate(srv.URL+"/_admin/"))
	waitFor(t, ctx, "the dashboard", `document.querySelector("#apps") !== null`)
	fmt.Fprintf(os.Stderr, "e2e: a page rebound to 127.0.0.1 got 403s: %v\n", statuses)
}

// wordsBroken is a script that lists the words of the elements matching a
// selector that the browser broke across lines (a word whose text range has
// more than one box), as "text of the element: word".
const wordsBroken = `((selector) => {
	const broken = [];
	for (const el of document.querySelectorAll(selector)) {
		if (el.offsetParent === null) continue; // hidden (the narrow layout drops some columns)
		const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
		for (let node = walker.nextNode(); node; node = walker.nextNode()) {
			for (const m of node.textContent.matchAll(/\S+/g)) {
				const r = document.createRange();
				r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
				const lines = new Set([...r.getClientRects()].map(b => Math.round(b.top)));
				if (lines.size > 1) broken.push(el.textContent.trim() + ": " + m[0]);
			}
		}
	}
	return broken;
})`

// TestDashboardLayoutAndToken: at 1400 and at 400 px no header, time,
// status, method, operation, error code, fault, application or button
// breaks inside a word (a target or a client's request id, strings of the
// client's, may wrap at their hyphens and slashes), and at 400 px neither
// the page nor a table scrolls sideways (the tables' rows wrap);
// with --token, the page asks for it, holds its actions until it has one,
// and says so when a token is refused; fault codes read as inactive at a
// fault rate of 0.
func TestDashboardLayoutAndToken(t *testing.T) {
	const token = "layout-token"
	mock, err := server.New(server.Config{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mock)
	defer srv.Close()
	// A journal with the long words the issue saw broken: Request_ResourceNotFound, operations, GUIDs.
	send := func(method, path, body string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("client-request-id", "layout-"+uuid.NewString())
		rsp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rsp.Body.Close()
	}
	app := uuid.NewString()
	for i := range 3 {
		send(http.MethodPost, "/applications/"+app+"/connectorGroup/members/$ref", fmt.Sprintf(`{"externalIp":"192.0.2.%d","machineName":"m%d","status":"active"}`, i+1, i))
	}
	send(http.MethodGet, "/applications/"+app+"/connectorGroup/members/"+uuid.NewString(), "")
	send(http.MethodPost, "/applications/"+app+"/connectorGroup/members/$ref", `{"externalIp":"String","machineName":"String","status":"String"}`)
	send(http.MethodGet, "/onPremisesPublishingProfiles/applicationProxy/connectors/"+uuid.NewString()+"/memberOf", "")

	ctx := browser(t)
	step(t, ctx, "open /_admin/", chromedp.Navigate(srv.URL+"/_admin/"))
	waitFor(t, ctx, "the token asked for", `!document.querySelector("#auth").hidden`)
	held, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#reset-all").disabled && document.querySelector("#faults button").disabled`))
	if err != nil || !held {
		t.Errorf("before a token, Reset and Apply are clickable (%v)", err)
	}
	give := func(value string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(
			`(() => { document.querySelector("#token").value = %q; document.querySelector("#auth-form").requestSubmit(); return true })()`, value))); err != nil {
			t.Fatalf("give a token: %v", err)
		}
	}
	give("wrong")
	waitFor(t, ctx, "the refusal said", `document.querySelector("#status").textContent.includes("token was refused") && !document.querySelector("#auth").hidden`)
	screenshot(t, ctx, "dashboard-refused.png")
	give(token)
	waitFor(t, ctx, "the journal", `document.querySelectorAll('#journal tr').length >= 6 && !document.querySelector("#reset-all").disabled`)
	inactive, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#codes").classList.contains("inactive")`))
	if err != nil || !inactive {
		t.Errorf("at a fault rate of 0 the fault codes do not read as inactive (%v)", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const r = document.querySelector("#faults input[name=faultRate]");
		r.value = "0.5"; r.dispatchEvent(new Event("input")); return true })()`)); err != nil {
		t.Fatal(err)
	}
	if active, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.querySelector("#codes").classList.contains("inactive")`)); !active {
		t.Error("at a fault rate of 0.5 the fault codes still read as inactive")
	}

	// The invalid add's details open: its headers and body are long lines
	// that must wrap inside the page too.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { document.querySelector('#journal tr[data-status="400"] button').click(); return true })()`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the details", `document.querySelector("#journal pre") !== null`)
	for _, width := range []int64{1400, 400} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond) // a refresh at the new width
		broken, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](wordsBroken+`("th, button, #journal td:not([colspan]):not(:nth-child(6)):not(:nth-child(8)), #apps td")`))
		if err != nil {
			t.Fatal(err)
		}
		if len(broken) > 0 {
			t.Errorf("at %d px, words broken across lines: %q", width, broken)
		}
		sideways, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if sideways {
			t.Errorf("at %d px the page scrolls sideways", width)
		}
		// Nor does a table: its rows wrap at a phone's width, so every
		// cell and every row's button can be seen without scrolling.
		clipped, err := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll(".scroll")].filter(b => b.scrollWidth > b.clientWidth).length`))
		if err != nil {
			t.Fatal(err)
		}
		if clipped > 0 {
			t.Errorf("at %d px %d tables scroll sideways in their boxes", width, clipped)
		}
		screenshot(t, ctx, fmt.Sprintf("dashboard-%d.png", width))
	}
}
