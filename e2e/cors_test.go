//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/journal"
)

// spaPage is a page of another origin that calls the mock as a single-page
// app with the Graph SDKs would: an add with the SDKs' headers (a preflight
// first), then the list; window.outcome says how it went.
const spaPage = `<!doctype html><meta charset="utf-8"><title>spa</title><script>
window.outcome = "running";
(async () => {
  const headers = {"Authorization": "Bearer spa-token", "Content-Type": "application/json",
    "client-request-id": "spa-1", "SdkVersion": "graph-js/3.0.7", "Prefer": "return=representation"};
  try {
    const add = await fetch(MOCK + "/beta/applications/APP/connectorGroup/members/$ref", {method: "POST", headers,
      body: JSON.stringify({externalIp: "203.0.113.9", machineName: "from-the-browser", status: "active"})});
    const location = add.headers.get("Location");
    const list = await fetch(MOCK + "/beta/applications/APP/connectorGroup/members", {headers: {"Authorization": "Bearer spa-token"}});
    const page = await list.json();
    window.outcome = "add " + add.status + " location " + (location ? "read" : "hidden") +
      ", list " + list.status + " " + page.value.map(m => m.machineName).join(",");
  } catch (e) {
    window.outcome = "blocked: " + e.message;
  }
})();
</script>`

// TestCORSInChromium: a page served from another origin adds and lists
// with fetch and the SDKs' headers when the mock names its origin
// (--cors-origins), and the browser blocks the same calls when it does not.
func TestCORSInChromium(t *testing.T) {
	ctx := browser(t)
	for _, tc := range []struct {
		name  string
		named bool
		want  string
	}{
		{"with --cors-origins", true, "add 201 location read, list 200 from-the-browser"},
		{"without", false, "blocked: Failed to fetch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := uuid.NewString()
			var origins []string
			var html atomic.Value // the page names the mock, which names the page's origin
			page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write([]byte(html.Load().(string)))
			}))
			defer page.Close()
			pageOrigin := page.URL
			if tc.named {
				origins = []string{pageOrigin}
			}
			mock, err := server.New(server.Config{CORSOrigins: origins})
			if err != nil {
				t.Fatal(err)
			}
			api := httptest.NewServer(mock)
			defer api.Close()
			html.Store(strings.NewReplacer("MOCK", fmt.Sprintf("%q", api.URL), "APP", app).Replace(spaPage))
			step(t, ctx, "open the page", chromedp.Navigate(pageOrigin+"/"))
			waitFor(t, ctx, "the calls end", `window.outcome !== "running"`)
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.outcome`))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("a page of %s against the mock at %s %s: %s", pageOrigin, api.URL, tc.name, got)
			if got != tc.want {
				t.Errorf("the page says %q, want %q", got, tc.want)
			}
			// What the mock saw: the preflight, answered or refused.
			var preflight string
			for _, e := range mock.Requests(journal.Filter{}) {
				if e.Method == http.MethodOptions {
					preflight = fmt.Sprintf("OPTIONS %s → %d", e.Path, e.Status)
				}
			}
			t.Logf("the mock's journal: %s", preflight)
		})
	}
}
