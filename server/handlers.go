package server

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/generated/echoapi"
	"github.com/connector-group/members-api/internal/reqcheck"
	"github.com/connector-group/members-api/openapi"
	"github.com/connector-group/members-api/server/store"
)

// handlers implements the generated echoapi.ServerInterface over a
// store.Store. The requests they get have been checked against the spec.
type handlers struct {
	store      store.Store
	tokens     *skipTokens
	memberPath string    // the spec's path of one member, {applicationsId} and {connectorId} to fill
	pathParts  [3]string // memberPath around its two parameters
	appFirst   bool      // whether {applicationsId} comes before {connectorId}
	specYAML   []byte
	specJSON   []byte
	metrics    http.Handler
}

var _ echoapi.ServerInterface = (*handlers)(nil)

func newHandlers(store store.Store, tokens *skipTokens, operations []reqcheck.Operation, specYAML []byte, metrics http.Handler) (*handlers, error) {
	h := &handlers{store: store, tokens: tokens, specYAML: specYAML, metrics: metrics}
	for _, op := range operations {
		if op.ID == "getConnectorGroupMember" {
			h.memberPath = op.Path
		}
	}
	if h.memberPath == "" {
		return nil, errors.New("the spec has no getConnectorGroupMember operation")
	}
	a, c := strings.Index(h.memberPath, "{applicationsId}"), strings.Index(h.memberPath, "{connectorId}")
	if a < 0 || c < 0 {
		return nil, fmt.Errorf("the member path %s lacks {applicationsId} or {connectorId}", h.memberPath)
	}
	first, firstLen, second, secondLen := a, len("{applicationsId}"), c, len("{connectorId}")
	h.appFirst = a < c
	if !h.appFirst {
		first, firstLen, second, secondLen = c, len("{connectorId}"), a, len("{applicationsId}")
	}
	h.pathParts = [3]string{h.memberPath[:first], h.memberPath[first+firstLen : second], h.memberPath[second+secondLen:]}
	specJSON, err := openapi.JSON()
	if err != nil {
		return nil, err
	}
	h.specJSON = specJSON
	return h, nil
}

// storeContext is the context a handler gives the store: the request's
// values without its cancellation. A change the server has begun is finished
// and kept even if the client goes away (closes, or half-closes its side), so
// that a client never has to guess whether an unanswered add was stored.
func storeContext(c echo.Context) context.Context {
	return context.WithoutCancel(c.Request().Context())
}

// AddConnectorGroupMember stores the connector the validator has decoded, and
// answers 204 or, when asked with Prefer, 201 with the body.
func (h *handlers) AddConnectorGroupMember(c echo.Context, app generated.ApplicationsID, _ generated.AddConnectorGroupMemberParams) error {
	ca, err := callOf(c)
	if err != nil {
		return err
	}
	in, err := bodyOf[generated.AddConnectorGroupMemberJSONRequestBody](c)
	if err != nil {
		return err
	}
	m := store.Member{ExternalIP: in.ExternalIP, MachineName: in.MachineName, Status: in.Status}
	if in.ID != nil {
		m.ID = *in.ID
	} else {
		m.ID = newGUID()
	}
	if err := h.store.Add(storeContext(c), app, m); err != nil {
		return fmt.Errorf("adding member %s to %s: %w", m.ID, app, err)
	}

	location := []string{h.memberURL(c, app, m.ID)}
	header := c.Response().Header()
	header[echo.HeaderLocation] = location
	header[canonicalODataEntityID] = location
	header[echo.HeaderVary] = varyPrefer
	if ca.prefer.representation {
		header[canonicalPrefApplied] = returnRepresentation
		return c.JSON(http.StatusCreated, toConnector(m))
	}
	return c.NoContent(http.StatusNoContent)
}

// Response header names and values of the add, canonical and built once.
var (
	canonicalODataEntityID = http.CanonicalHeaderKey(headerODataEntity)
	canonicalPrefApplied   = http.CanonicalHeaderKey(headerPrefApplied)
	varyPrefer             = []string{"Prefer"}
	returnRepresentation   = []string{"return=representation"}
)

// ListConnectorGroupMembers answers one page and, when more follow, the link to the next.
func (h *handlers) ListConnectorGroupMembers(c echo.Context, app generated.ApplicationsID, params generated.ListConnectorGroupMembersParams) error {
	top := generated.ListConnectorGroupMembersTopDefault
	if params.Top != nil {
		top = int(*params.Top)
	}
	var after store.Cursor
	if params.Skiptoken != nil {
		var err error
		if after, err = h.tokens.decode(app, *params.Skiptoken); err != nil {
			return badRequest([]reqcheck.Violation{{Target: "$skiptoken", Message: msgInvalidSkipTok}})
		}
	}
	page, err := h.store.List(storeContext(c), app, after, top)
	if err != nil {
		return fmt.Errorf("listing members of %s: %w", app, err)
	}
	out := generated.ConnectorCollection{Value: make([]generated.Connector, len(page.Members))}
	for i, m := range page.Members {
		out.Value[i] = toConnector(m)
	}
	if page.More {
		next := h.nextLink(c, params.Top, h.tokens.encode(app, page.Next))
		out.OdataNextLink = &next
	}
	return c.JSON(http.StatusOK, out)
}

// GetConnectorGroupMember answers the member, or 404.
func (h *handlers) GetConnectorGroupMember(c echo.Context, app generated.ApplicationsID, id generated.ConnectorID, _ generated.GetConnectorGroupMemberParams) error {
	m, err := h.store.Get(storeContext(c), app, id)
	if errors.Is(err, store.ErrMemberNotFound) {
		return memberNotFound(id)
	}
	if err != nil {
		return fmt.Errorf("reading member %s of %s: %w", id, app, err)
	}
	return c.JSON(http.StatusOK, toConnector(m))
}

// RemoveConnectorGroupMember removes the member, or answers 404.
func (h *handlers) RemoveConnectorGroupMember(c echo.Context, app generated.ApplicationsID, id generated.ConnectorID, _ generated.RemoveConnectorGroupMemberParams) error {
	err := h.store.Remove(storeContext(c), app, id)
	if errors.Is(err, store.ErrMemberNotFound) {
		return memberNotFound(id)
	}
	if err != nil {
		return fmt.Errorf("removing member %s of %s: %w", id, app, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// GetHealth answers that the server is up.
func (h *handlers) GetHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, generated.Health{Status: generated.HealthStatusOk})
}

// GetMetrics serves the Prometheus metrics.
func (h *handlers) GetMetrics(c echo.Context) error {
	h.metrics.ServeHTTP(c.Response(), c.Request())
	return nil
}

// GetOpenAPIYAML serves the spec as it was written.
func (h *handlers) GetOpenAPIYAML(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", h.specYAML)
}

// GetOpenAPIJSON serves the spec as JSON: openapi/connector.yaml itself.
func (h *handlers) GetOpenAPIJSON(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, h.specJSON)
}

// toConnector is the stored member as the API shows it: id and type always set.
func toConnector(m store.Member) generated.Connector {
	id := m.ID
	typ := generated.ConnectorOdataTypeHashMicrosoftGraphConnector
	return generated.Connector{
		OdataType:   &typ,
		ID:          &id,
		ExternalIP:  m.ExternalIP,
		MachineName: m.MachineName,
		Status:      m.Status,
	}
}

// baseURL is the scheme and authority the client reached this server by. A
// request without a Host (HTTP/1.0 may omit it) is answered with the address
// it arrived on, so that Location and @odata.nextLink are always absolute.
func baseURL(c echo.Context) string {
	req := c.Request()
	host := req.Host
	if host == "" {
		host = localHost(req)
	}
	return schemeOf(req) + "://" + host
}

// localHost names the server by the address the request arrived on.
func localHost(req *http.Request) string {
	if addr, ok := req.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return addr.String()
	}
	return "localhost"
}

// memberURL is the absolute URL of member id of app: the spec's member path,
// split at start-up, with both ids written in place (one allocation: this
// runs on every add).
func (h *handlers) memberURL(c echo.Context, app, id uuid.UUID) string {
	req := c.Request()
	scheme, host := schemeOf(req), req.Host
	if host == "" {
		host = localHost(req)
	}
	first, second := app, id
	if !h.appFirst {
		first, second = id, app
	}
	prefix := versionPrefix(req.URL.Path) // a link keeps the request's /beta or /v1.0
	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(host) + len(prefix) + len(h.memberPath) + 2*36)
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	b.WriteString(prefix)
	var buf [36]byte
	b.WriteString(h.pathParts[0])
	b.Write(guidText(&buf, first))
	b.WriteString(h.pathParts[1])
	b.Write(guidText(&buf, second))
	b.WriteString(h.pathParts[2])
	return b.String()
}

// guidText writes id in its canonical form, as uuid.UUID.String does, into buf.
func guidText(buf *[36]byte, id uuid.UUID) []byte {
	hex.Encode(buf[0:8], id[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], id[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], id[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], id[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], id[10:])
	return buf[:]
}

// schemeOf is https for a TLS connection or, behind a proxy on a private
// address, what its forwarding headers say (Echo's rule); otherwise http.
func schemeOf(req *http.Request) string {
	if req.TLS != nil {
		return "https"
	}
	for _, name := range forwardingHeaders {
		if _, ok := req.Header[name]; ok {
			return echo.ExtractSchemeFromHeaders()(req)
		}
	}
	return "http"
}

// forwardingHeaders are the headers Echo's scheme extractor reads.
var forwardingHeaders = [...]string{echo.HeaderXForwardedProto, echo.HeaderXForwardedProtocol, echo.HeaderXForwardedSsl, echo.HeaderXUrlScheme}

// nextLink repeats the request with the $skiptoken that resumes after this
// page, keeping the page size the client asked for.
func (h *handlers) nextLink(c echo.Context, top *int32, token string) string {
	var b strings.Builder
	b.WriteString(baseURL(c))
	b.WriteString(c.Request().URL.EscapedPath())
	b.WriteByte('?')
	if top != nil {
		b.WriteString("$top=")
		b.WriteString(strconv.Itoa(int(*top)))
		b.WriteByte('&')
	}
	b.WriteString("$skiptoken=")
	b.WriteString(token)
	return b.String()
}
