package server

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
)

// handlers implements generated.ServerInterface over a MemberStore.
type handlers struct {
	store           MemberStore
	defaultTop      int        // the spec's default for $top
	memberPath      string     // the spec's path of one member, {applicationsId} and {connectorId} to fill
	memberPathParts []string   // memberPath around its parameters
	memberPathNames [][]string // the parameters, in order
	specYAML        []byte
	specJSON        []byte
}

var _ generated.ServerInterface = (*handlers)(nil)

// AddConnectorGroupMember stores the connector the validator has already
// checked, and answers 204 or, when asked with Prefer, 201 with the body.
func (h *handlers) AddConnectorGroupMember(c echo.Context, app generated.ApplicationsID, params generated.AddConnectorGroupMemberParams) error {
	in, err := addBody(c)
	if err != nil {
		return err
	}
	m := Member{ExternalIP: in.ExternalIP, MachineName: in.MachineName, Status: in.Status}
	if in.ID != nil {
		m.ID = *in.ID
	} else {
		m.ID = newGUID()
	}
	if err := h.store.Add(c.Request().Context(), app, m); err != nil {
		return fmt.Errorf("adding member %s to %s: %w", m.ID, app, err)
	}

	location := []string{h.memberURL(c, app, m.ID)}
	header := c.Response().Header()
	header[echo.HeaderLocation] = location
	header[canonicalODataEntityID] = location
	header[echo.HeaderVary] = varyPrefer
	if wantsRepresentation(params.Prefer) {
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

// addBody is the validated body: decoded by the validator's fast path, or
// here when kin-openapi checked it.
func addBody(c echo.Context) (generated.AddConnectorGroupMemberJSONRequestBody, error) {
	if vb, ok := c.Request().Body.(*bufferedBody); ok {
		if in, ok := vb.ValidatedValue().(*generated.AddConnectorGroupMemberJSONRequestBody); ok {
			return *in, nil
		}
	}
	var in generated.AddConnectorGroupMemberJSONRequestBody
	data, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return in, badRequest([]generated.ErrorDetail{violation("", "The request body could not be read.")})
	}
	if err := json.Unmarshal(data, &in); err != nil {
		// The validator decodes a stream and stops at the first value; this
		// catches what follows it, such as `{...} garbage`.
		return in, badRequest([]generated.ErrorDetail{violation("", msgInvalidJSON)})
	}
	return in, nil
}

// wantsRepresentation reads the Prefer header (RFC 7240): a list of
// preferences, of which only `return` matters here.
func wantsRepresentation(prefer *string) bool {
	if prefer == nil {
		return false
	}
	for _, pref := range strings.Split(*prefer, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(pref), "=")
		if strings.EqualFold(strings.TrimSpace(name), "return") {
			return strings.EqualFold(strings.Trim(strings.TrimSpace(value), `"`), "representation")
		}
	}
	return false
}

// ListConnectorGroupMembers answers one page and, when more follow, the link to the next.
func (h *handlers) ListConnectorGroupMembers(c echo.Context, app generated.ApplicationsID, params generated.ListConnectorGroupMembersParams) error {
	top := h.defaultTop
	if params.Top != nil {
		top = int(*params.Top)
	}
	var after Cursor
	if params.Skiptoken != nil {
		var err error
		if after, err = decodeSkipToken(*params.Skiptoken); err != nil {
			return badRequest([]generated.ErrorDetail{violation("$skiptoken", msgInvalidSkipTok)})
		}
	}
	page, err := h.store.List(c.Request().Context(), app, after, top)
	if err != nil {
		return fmt.Errorf("listing members of %s: %w", app, err)
	}
	out := generated.ConnectorCollection{Value: make([]generated.Connector, len(page.Members))}
	for i, m := range page.Members {
		out.Value[i] = toConnector(m)
	}
	if page.More {
		next := h.nextLink(c, params.Top, page.Next)
		out.OdataNextLink = &next
	}
	return c.JSON(http.StatusOK, out)
}

// GetConnectorGroupMember answers the member, or 404.
func (h *handlers) GetConnectorGroupMember(c echo.Context, app generated.ApplicationsID, id generated.ConnectorID, _ generated.GetConnectorGroupMemberParams) error {
	m, err := h.store.Get(c.Request().Context(), app, id)
	if errors.Is(err, ErrMemberNotFound) {
		return memberNotFound(id)
	}
	if err != nil {
		return fmt.Errorf("reading member %s of %s: %w", id, app, err)
	}
	return c.JSON(http.StatusOK, toConnector(m))
}

// RemoveConnectorGroupMember removes the member, or answers 404.
func (h *handlers) RemoveConnectorGroupMember(c echo.Context, app generated.ApplicationsID, id generated.ConnectorID, _ generated.RemoveConnectorGroupMemberParams) error {
	err := h.store.Remove(c.Request().Context(), app, id)
	if errors.Is(err, ErrMemberNotFound) {
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

// GetOpenAPIYAML serves the spec as it was written.
func (h *handlers) GetOpenAPIYAML(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", h.specYAML)
}

// GetOpenAPIJSON serves the embedded spec as JSON.
func (h *handlers) GetOpenAPIJSON(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, h.specJSON)
}

// toConnector is the stored member as the API shows it: id and type always set.
func toConnector(m Member) generated.Connector {
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

// baseURL is the scheme and host the client reached this server by.
func baseURL(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host
}

// memberURL fills the spec's member path, split once at start-up. The ids
// are written in place rather than through uuid.String, one allocation
// instead of three on every add.
func (h *handlers) memberURL(c echo.Context, app, id uuid.UUID) string {
	scheme, host := c.Scheme(), c.Request().Host
	var b strings.Builder // its String does not copy: one allocation in all
	b.Grow(len(scheme) + len("://") + len(host) + len(h.memberPath) + 2*36)
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	var idBuf [36]byte
	for i, part := range h.memberPathParts {
		b.WriteString(part)
		if i < len(h.memberPathNames) {
			switch h.memberPathNames[i][1] {
			case "applicationsId":
				b.Write(appendUUID(idBuf[:0], app))
			case "connectorId":
				b.Write(appendUUID(idBuf[:0], id))
			}
		}
	}
	return b.String()
}

// appendUUID appends id in its canonical form, as uuid.UUID.String writes it.
func appendUUID(b []byte, id uuid.UUID) []byte {
	var s [36]byte
	hex.Encode(s[0:8], id[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], id[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], id[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], id[8:10])
	s[23] = '-'
	hex.Encode(s[24:], id[10:])
	return append(b, s[:]...)
}

// schemeOf is Echo's default scheme extractor (X-Forwarded-Proto and its
// kin, trusted only from a proxy on a private address) made cheap for the
// common request that carries none of those headers: Echo's own parses the
// peer's address first, on every call (measured: 1.3% of an add's CPU).
func schemeOf(echoDefault echo.SchemeExtractor) echo.SchemeExtractor {
	return func(req *http.Request) string {
		if req.TLS != nil {
			return "https"
		}
		for _, name := range forwardingHeaders {
			if _, ok := req.Header[name]; ok {
				return echoDefault(req)
			}
		}
		return "http"
	}
}

// forwardingHeaders are the headers Echo's scheme extractor reads; net/http
// stores request headers under these canonical names.
var forwardingHeaders = [...]string{echo.HeaderXForwardedProto, echo.HeaderXForwardedProtocol, echo.HeaderXForwardedSsl, echo.HeaderXUrlScheme}

// nextLink repeats the request with the $skiptoken that resumes after next,
// keeping the page size the client asked for.
func (h *handlers) nextLink(c echo.Context, top *int32, next Cursor) string {
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
	b.WriteString(encodeSkipToken(next))
	return b.String()
}
