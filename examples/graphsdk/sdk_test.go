package graphsdk

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/authentication"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	khttp "github.com/microsoft/kiota-http-go"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	textserialization "github.com/microsoft/kiota-serialization-text-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/connector-group/members-api/server/faults"
	"github.com/connector-group/members-api/server/mocktest"
)

// The URL templates, as kiota writes them in the SDKs' request builders. The
// beta SDK has no builder for the seed page's navigation through
// /applications, so these follow its conventions for it.
const (
	membersRef = "{+baseurl}/applications/{application%2Did}/connectorGroup/members/$ref"
	members    = "{+baseurl}/applications/{application%2Did}/connectorGroup/members{?%24top}"
	member     = "{+baseurl}/applications/{application%2Did}/connectorGroup/members/{connector%2Did}"
	memberRef  = "{+baseurl}/applications/{application%2Did}/connectorGroup/members/{connector%2Did}/$ref"
)

const token = "sdk-token"

// tokenProvider hands the token to the hosts allowed. The Graph SDKs'
// default allowed hosts are Microsoft's, so a test names 127.0.0.1.
type tokenProvider struct {
	hosts authentication.AllowedHostsValidator
}

func (p tokenProvider) GetAuthorizationToken(context.Context, *url.URL, map[string]any) (string, error) {
	return token, nil
}

func (p tokenProvider) GetAllowedHostsValidator() *authentication.AllowedHostsValidator {
	return &p.hosts
}

// adapter is a request adapter over client with the Graph SDK's JSON
// serialization and a bearer token for 127.0.0.1, based at base.
func adapter(t *testing.T, client *http.Client, base string) *khttp.NetHttpRequestAdapter {
	t.Helper()
	auth := authentication.NewBaseBearerTokenAuthenticationProvider(
		tokenProvider{hosts: authentication.NewAllowedHostsValidator([]string{"127.0.0.1"})})
	// JSON for the resources, text for /$count, as the Graph SDKs register them.
	parsers := serialization.NewParseNodeFactoryRegistry()
	parsers.ContentTypeAssociatedFactories["application/json"] = jsonserialization.NewJsonParseNodeFactory()
	parsers.ContentTypeAssociatedFactories["text/plain"] = textserialization.NewTextParseNodeFactory()
	a, err := khttp.NewNetHttpRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, parsers, jsonserialization.NewJsonSerializationWriterFactory(), client)
	if err != nil {
		t.Fatal(err)
	}
	a.SetBaseUrl(base)
	return a
}

// graphClient is the Graph SDK's default HTTP client: its telemetry handler
// and kiota's default middleware (retry, redirect, compression, …).
func graphClient() *http.Client {
	return msgraphgocore.GetDefaultClient(&msgraphgocore.GraphClientOptions{GraphServiceVersion: "beta", GraphServiceLibraryVersion: "0.0.0"})
}

var errorMappings = abstractions.ErrorMappings{"XXX": NewODataError}

func request(method abstractions.HttpMethod, template string, app uuid.UUID, connector string) *abstractions.RequestInformation {
	params := map[string]string{"application%2Did": app.String()}
	if connector != "" {
		params["connector%2Did"] = connector
	}
	return abstractions.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(method, template, params)
}

func str(s string) *string { return &s }

// TestTheGraphSDKStack drives the mock through the official SDK's HTTP stack
// with a base URL ending in /beta, as SDK code would: add (gzipped by the
// compression handler), list page by page with PageIterator, read, remove, a
// missing member as an OData error, throttling retried after Retry-After,
// and a caller's own client-request-id beside the telemetry handler's.
func TestTheGraphSDKStack(t *testing.T) {
	m := mocktest.Start(t, mocktest.WithToken(token))
	ctx := context.Background()
	a := adapter(t, graphClient(), m.URL+"/beta")
	app := uuid.New()

	var ids []string
	for i := range 5 {
		id := uuid.NewString()
		req := request(abstractions.POST, membersRef, app, "")
		c := &Connector{ID: &id, ExternalIP: str("192.0.2.7"), MachineName: str("sdk-" + string(rune('a'+i))), Status: str("active")}
		if err := req.SetContentFromParsable(ctx, a, "application/json", c); err != nil {
			t.Fatal(err)
		}
		if err := a.SendNoContent(ctx, req, errorMappings); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
		ids = append(ids, id)
	}
	adds := m.Requests(mocktest.Operation("addConnectorGroupMember"))
	if len(adds) != 5 || adds[0].Status != 204 || adds[0].Headers["Content-Encoding"] != "gzip" || !strings.HasPrefix(adds[0].Path, "/beta/") {
		t.Fatalf("the adds as the mock saw them: %+v", adds[0])
	}
	t.Logf("add: 5 × POST %s → %d (Content-Encoding %s, SdkVersion %q)", adds[0].Path, adds[0].Status,
		adds[0].Headers["Content-Encoding"], adds[0].Headers["SdkVersion"])

	// List two a page, following @odata.nextLink with the SDK's PageIterator.
	list := request(abstractions.GET, members, app, "")
	list.QueryParametersAny["%24top"] = 2
	first, err := a.Send(ctx, list, NewConnectorCollection, errorMappings)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := msgraphgocore.NewPageIterator[*Connector](first, a, NewConnectorCollection)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	if err := pages.Iterate(ctx, func(c *Connector) bool { listed = append(listed, *c.ID); return true }); err != nil {
		t.Fatal(err)
	}
	lists := m.Requests(mocktest.Operation("listConnectorGroupMembers"))
	if strings.Join(listed, ",") != strings.Join(ids, ",") || len(lists) != 3 {
		t.Fatalf("PageIterator listed %v in %d pages, want %v in 3", listed, len(lists), ids)
	}
	for i := len(lists) - 1; i >= 0; i-- {
		t.Logf("list: page %d, GET %s → %d", len(lists)-i, lists[i].Path, lists[i].Status)
	}

	got, err := a.Send(ctx, request(abstractions.GET, member, app, ids[2]), NewConnector, errorMappings)
	if err != nil || *got.(*Connector).MachineName != "sdk-c" {
		t.Fatalf("read: %v, %v", got, err)
	}
	t.Logf("read: GET member %s → %s", ids[2], *got.(*Connector).MachineName)

	if err := a.SendNoContent(ctx, request(abstractions.DELETE, memberRef, app, ids[2]), errorMappings); err != nil {
		t.Fatalf("remove: %v", err)
	}
	t.Log("remove: DELETE member/$ref → 204")

	// A missing member: the 404 maps onto the OData error.
	_, err = a.Send(ctx, request(abstractions.GET, member, app, ids[2]), NewConnector, errorMappings)
	var oe *ODataError
	if !errors.As(err, &oe) || oe.GetStatusCode() != 404 || oe.Code != "Request_ResourceNotFound" {
		t.Fatalf("a removed member: %v (%T), want the OData 404", err, err)
	}
	t.Logf("missing: %v", oe)

	// A caller's own client-request-id: the telemetry handler adds its own
	// after it; the mock takes both and echoes the caller's.
	mine := request(abstractions.GET, member, app, ids[0])
	mine.Headers.Add("client-request-id", "caller-7")
	if _, err := a.Send(ctx, mine, NewConnector, errorMappings); err != nil {
		t.Fatalf("with a client-request-id: %v", err)
	}
	gets := m.Requests(mocktest.Operation("getConnectorGroupMember"), mocktest.Status(200))
	if gets[0].ClientRequestID != "caller-7" {
		t.Errorf("the mock recorded client-request-id %q, want the caller's", gets[0].ClientRequestID)
	}
	t.Logf("client-request-id: the caller's %q and the SDK's, answered %d", gets[0].ClientRequestID, gets[0].Status)

	// Throttling: one request a second; the retry handler waits the
	// Retry-After and tries again.
	if err := m.SetFaults(faults.Settings{RateLimit: faults.RateLimit{Requests: 1, Window: time.Second}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 2 {
		if _, err := a.Send(ctx, request(abstractions.GET, member, app, ids[0]), NewConnector, errorMappings); err != nil {
			t.Fatalf("throttled read: %v", err)
		}
	}
	waited := time.Since(start)
	reads := m.Requests(mocktest.Operation("getConnectorGroupMember"))
	if reads[1].Status != 429 || reads[0].Status != 200 || reads[0].Headers["Retry-Attempt"] != "1" || waited < time.Second {
		t.Fatalf("throttling: %d then %d (Retry-Attempt %q) in %v", reads[1].Status, reads[0].Status, reads[0].Headers["Retry-Attempt"], waited)
	}
	t.Logf("throttled: GET → %d, retried after Retry-After (Retry-Attempt %s) → %d; the two reads took %v",
		reads[1].Status, reads[0].Headers["Retry-Attempt"], reads[0].Status, waited.Round(100*time.Millisecond))
}

// TestGzipOnRetry: kiota-http-go's default middleware order comes from a Go
// map, so it differs from client to client. Its middleware list runs from
// the outside in: with the retry handler before the compression handler, a
// retried POST resends the plain body under Content-Encoding: gzip
// (kiota-http-go issue 183), and the mock answers that with a 400 that says
// so; with the compression handler before the retry handler, every attempt
// is compressed and the retry succeeds: the order the README recommends.
// Both lists end with AttemptCopy, without which the retry races with the
// transport over the rewound body (see its comment).
func TestGzipOnRetry(t *testing.T) {
	m := mocktest.Start(t, mocktest.WithToken(token))
	ctx := context.Background()
	telemetry := msgraphgocore.NewGraphTelemetryHandler(&msgraphgocore.GraphClientOptions{})
	for _, tc := range []struct {
		name   string
		chain  []khttp.Middleware
		wantOK bool
	}{
		{"retry before compression", []khttp.Middleware{telemetry, khttp.NewRetryHandler(), khttp.NewCompressionHandler(), AttemptCopy{}}, false},
		{"compression before retry", []khttp.Middleware{telemetry, khttp.NewCompressionHandler(), khttp.NewRetryHandler(), AttemptCopy{}}, true},
	} {
		if err := m.SetFaults(faults.Settings{}); err != nil {
			t.Fatal(err)
		}
		a := adapter(t, khttp.GetDefaultClient(tc.chain...), m.URL+"/v1.0")
		app := uuid.New()
		// The first add uses the window; the second is throttled and retried.
		if err := m.SetFaults(faults.Settings{RateLimit: faults.RateLimit{Requests: 1, Window: time.Second}}); err != nil {
			t.Fatal(err)
		}
		var last error
		for i := range 2 {
			req := request(abstractions.POST, membersRef, app, "")
			c := &Connector{ExternalIP: str("192.0.2.9"), MachineName: str("retry-" + string(rune('a'+i))), Status: str("active")}
			if err := req.SetContentFromParsable(ctx, a, "application/json", c); err != nil {
				t.Fatal(err)
			}
			last = a.SendNoContent(ctx, req, errorMappings)
		}
		adds := m.Requests(mocktest.Operation("addConnectorGroupMember"), mocktest.Application(app))
		statuses := make([]int, len(adds))
		for i, e := range adds {
			statuses[len(adds)-1-i] = e.Status
		}
		t.Logf("%s: the adds answered %v; the second add returned %v", tc.name, statuses, last)
		var oe *ODataError
		if tc.wantOK && last != nil {
			t.Errorf("%s: %v", tc.name, last)
		}
		if !tc.wantOK {
			if !errors.As(last, &oe) || oe.GetStatusCode() != 400 || !strings.Contains(oe.Message, "plain JSON") || !strings.Contains(oe.Message, "issue 183") {
				t.Errorf("%s: %v, want the mock's 400 naming the plain body", tc.name, last)
			}
			if body := adds[0].Body; !strings.HasPrefix(body, `{"`) {
				t.Errorf("%s: the journal kept %q, want the plain JSON that arrived", tc.name, body)
			}
		}
	}
}
