package graphsdk

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/mocktest"
)

// TestTheSDKOverHTTPS: the SDK's stack against a TLS mock (mocktest.StartTLS,
// as connector-mock --tls) by a host name that is not localhost, as in
// Compose: the mock's CA trusted, the token sent only to that host (the
// allowed hosts), an add and a read over HTTP/2 with https links.
func TestTheSDKOverHTTPS(t *testing.T) {
	m := mocktest.StartTLS(t, mocktest.WithToken(token), mocktest.WithConfig(func(c *server.Config) { c.AllowedHosts = []string{"mock.test"} }))
	u, err := url.Parse(m.URL)
	if err != nil {
		t.Fatal(err)
	}
	base := "https://mock.test:" + u.Port() + "/beta"
	// mock.test resolves to the mock, as a Compose service's name does.
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: m.CertPool()}, ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, u.Host)
		}}
	hc := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(transport,
		msgraphgocore.GetDefaultMiddlewaresWithOptions(&msgraphgocore.GraphClientOptions{GraphServiceVersion: "beta", GraphServiceLibraryVersion: "0.0.0"})...)}
	auth := authentication.NewBaseBearerTokenAuthenticationProvider(
		tokenProvider{hosts: authentication.NewAllowedHostsValidator([]string{"mock.test"})})
	a, err := khttp.NewNetHttpRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, jsonserialization.NewJsonParseNodeFactory(), jsonserialization.NewJsonSerializationWriterFactory(), hc)
	if err != nil {
		t.Fatal(err)
	}
	a.SetBaseUrl(base)
	ctx := context.Background()
	app, id := uuid.New(), uuid.NewString()
	add := request(abstractions.POST, membersRef, app, "")
	if err := add.SetContentFromParsable(ctx, a, "application/json",
		&Connector{ID: &id, ExternalIP: str("192.0.2.30"), MachineName: str("over-https"), Status: str("active")}); err != nil {
		t.Fatal(err)
	}
	if err := a.SendNoContent(ctx, add, errorMappings); err != nil {
		t.Fatalf("add over https: %v", err)
	}
	got, err := a.Send(ctx, request(abstractions.GET, member, app, id), NewConnector, errorMappings)
	if err != nil || *got.(*Connector).MachineName != "over-https" {
		t.Fatalf("read over https: %v, %v", got, err)
	}
	adds := m.Requests(mocktest.Operation("addConnectorGroupMember"))
	if len(adds) != 1 || adds[0].Status != 204 {
		t.Fatalf("the add as the mock saw it: %+v", adds)
	}
	t.Logf("https: POST %s/applications/…/members/$ref → %d (token sent to mock.test, the mock's CA trusted); GET → %s",
		base, adds[0].Status, *got.(*Connector).MachineName)
}
