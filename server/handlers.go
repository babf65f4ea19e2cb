package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/generated/echoapi"
	"github.com/connector-group/members-api/generated/validation"
	"github.com/connector-group/members-api/internal/odata"
	"github.com/connector-group/members-api/internal/reqcheck"
	"github.com/connector-group/members-api/server/store"
)

// handlers implements the generated echoapi.ServerInterface over a
// store.Store. The requests they get have been checked against the spec.
type handlers struct {
	store     store.Store
	tokens    *skipTokens
	appMember memberLink // a member at the seed page's path, by application
	member    memberLink // a member at the service's own path, by group
	specYAML  []byte
	specJSON  []byte
	index     index // the / page and its links
	metrics   http.Handler
	groupPath string // a connector group's path, {connectorGroupId} to be filled in
	// implicitGroups makes the service's paths create a group on first use,
	// as the seed page's path does, instead of answering 404 (--implicit-groups).
	implicitGroups bool
	cors           *corsPolicy // which origins' preflights are answered
	// dispatch serves a request of a batch through the whole server
	// (Server.ServeHTTP), and roots are the service's first path segments.
	dispatch func(http.ResponseWriter, *http.Request)
	roots    map[string]bool
}

var _ echoapi.ServerInterface = (*handlers)(nil)

// memberLink is the spec's path of one member, split around its group and
// connector parameters, to be filled in on every add.
type memberLink struct {
	path       string
	parts      [3]string // path around its two parameters
	groupFirst bool      // whether the group's parameter comes before {connectorId}
}

// newMemberLink reads the path of the operation id, whose group parameter is group.
func newMemberLink(operations []reqcheck.Operation, id, group string) (memberLink, error) {
	var l memberLink
	for _, op := range operations {
		if op.ID == id {
			l.path = op.Path
		}
	}
	if l.path == "" {
		return l, fmt.Errorf("the spec has no %s operation", id)
	}
	g, c := strings.Index(l.path, group), strings.Index(l.path, "{connectorId}")
	if g < 0 || c < 0 {
		return l, fmt.Errorf("the member path %s lacks %s or {connectorId}", l.path, group)
	}
	first, firstLen, second, secondLen := g, len(group), c, len("{connectorId}")
	l.groupFirst = g < c
	if !l.groupFirst {
		first, firstLen, second, secondLen = c, len("{connectorId}"), g, len(group)
	}
	l.parts = [3]string{l.path[:first], l.path[first+firstLen : second], l.path[second+secondLen:]}
	return l, nil
}

// storeContext is the context a handler gives the store: the request's
// values without its cancellation. A change the server has begun is finished
// and kept even if the client goes away (closes, or half-closes its side), so
// that a client never has to guess whether an unanswered add was stored.
func storeContext(c echo.Context) context.Context {
	return context.WithoutCancel(c.Request().Context())
}

// AddConnectorGroupMember adds a member at the seed page's path.
func (h *handlers) AddConnectorGroupMember(c echo.Context, app generated.ApplicationsID, _ generated.AddConnectorGroupMemberParams) error {
	return h.addMember(c, app, &h.appMember, false)
}

// applicationGroup is the group an application's seed-page path names: the
// one it is assigned to, or the group with its own id.
func (h *handlers) applicationGroup(c echo.Context, app uuid.UUID) (uuid.UUID, error) {
	group, err := h.store.ApplicationGroup(storeContext(c), app)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("finding the group of application %s: %w", app, err)
	}
	return group, nil
}

// AddGroupMember adds a member at the service's own path.
func (h *handlers) AddGroupMember(c echo.Context, group generated.ConnectorGroupID, _ generated.AddGroupMemberParams) error {
	return h.addMember(c, group, &h.member, !h.implicitGroups)
}

// addMember stores what the validator decoded, a connector or a reference to
// one, and answers 204 or, when asked with Prefer, 201 with the connector.
// With requireGroup, a group that does not exist is a 404 rather than made.
func (h *handlers) addMember(c echo.Context, group uuid.UUID, link *memberLink, requireGroup bool) error {
	ca, err := callOf(c)
	if err != nil {
		return err
	}
	var m store.Member
	switch in := ca.body.(type) {
	case *generated.Connector:
		m = store.Member{Connector: *in}
		if in.ID != nil {
			m.ID = *in.ID
		} else {
			m.ID = newGUID()
		}
		_, err = h.store.Do(storeContext(c), store.Op{Kind: store.OpAdd, Group: group, Member: m, RequireGroup: requireGroup, ViaApplication: link == &h.appMember})
	case *generated.ReferenceCreate:
		id, perr := referencedID(in.OdataID)
		if perr != nil {
			return perr
		}
		m, err = h.store.Do(storeContext(c), store.Op{Kind: store.OpAddReference, Group: group, Member: store.Member{ID: id}, RequireGroup: requireGroup, ViaApplication: link == &h.appMember})
		if errors.Is(err, store.ErrConnectorNotFound) {
			return notFoundAt(id, "/@odata.id")
		}
		m.ID = id
	default:
		return fmt.Errorf("the handler wants a connector or a reference, the validator decoded a %T", ca.body)
	}
	if errors.Is(err, store.ErrGroupNotFound) {
		return groupNotFound(group)
	}
	if err != nil {
		return fmt.Errorf("adding member %s to %s: %w", m.ID, group, err)
	}

	location := []string{link.url(c, group, m.ID)}
	header := c.Response().Header()
	header[echo.HeaderLocation] = location
	header[canonicalODataEntityID] = location
	if vary := header[echo.HeaderVary]; len(vary) > 0 {
		header[echo.HeaderVary] = append(vary, varyPrefer...) // after CORS's Origin
	} else {
		header[echo.HeaderVary] = varyPrefer
	}
	if ca.prefer.representation {
		header[canonicalPrefApplied] = returnRepresentation
		return c.JSON(http.StatusCreated, toConnector(m))
	}
	return c.NoContent(http.StatusNoContent)
}

// referencedID is the id an @odata.id names: the spec's pattern has checked
// that the URI's path ends in …/connectors/{GUID} or …/connectorGroups/{GUID}.
func referencedID(odataID string) (uuid.UUID, error) {
	const guidLen = 36
	if len(odataID) < guidLen {
		return uuid.UUID{}, fmt.Errorf("an @odata.id the validator passed, %q, names no entity", odataID)
	}
	id, err := uuid.Parse(odataID[len(odataID)-guidLen:])
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("an @odata.id the validator passed, %q, names no entity: %w", odataID, err)
	}
	return id, nil
}

// Response header names and values of the add, canonical and built once.
var (
	canonicalODataEntityID = http.CanonicalHeaderKey(headerODataEntity)
	canonicalPrefApplied   = http.CanonicalHeaderKey(headerPrefApplied)
	varyPrefer             = []string{"Prefer"}
	returnRepresentation   = []string{"return=representation"}
)

// ListConnectorGroupMembers answers one page of the members at the seed page's path.
func (h *handlers) ListConnectorGroupMembers(c echo.Context, app generated.ApplicationsID, params generated.ListConnectorGroupMembersParams) error {
	group, err := h.applicationGroup(c, app)
	if err != nil {
		return err
	}
	return h.listConnectors(c, membersOf(app), optionsOf(generated.ListConnectorsParams(params)), &group)
}

// ListGroupMembers answers one page of the members at the service's own path.
func (h *handlers) ListGroupMembers(c echo.Context, group generated.ConnectorGroupID, params generated.ListGroupMembersParams) error {
	if err := h.requireGroup(c, group); err != nil {
		return err
	}
	return h.listConnectors(c, membersOf(group), optionsOf(generated.ListConnectorsParams(params)), &group)
}

// ListConnectors answers one page of the connectors the mock knows.
func (h *handlers) ListConnectors(c echo.Context, params generated.ListConnectorsParams) error {
	return h.listConnectors(c, allConnectors, optionsOf(params), nil)
}

// optionsOf reads the query options of a collection's parameters (those of
// every list operation have the same fields, as the spec gives each the
// same parameters).
func optionsOf(p generated.ListConnectorsParams) queryOptions {
	return queryOptions{top: p.Top, skiptoken: p.Skiptoken, sel: p.Select, filter: p.Filter, orderby: p.Orderby, count: p.Count}
}

// listConnectors answers one page of the members of group (nil: of every
// connector) and, when more follow, the link to the next.
func (h *handlers) listConnectors(c echo.Context, l listing, o queryOptions, group *uuid.UUID) error {
	a, err := runQuery(c, h, l, &validation.ConnectorQuery, o, h.scanMembers(group))
	if err != nil {
		return err
	}
	return writeAnswer(c, a, func(items []generated.Connector, count *int64, next *string) any {
		return generated.ConnectorCollection{Value: items, OdataCount: count, OdataNextLink: next}
	})
}

// position is where a page of listing l starts and how long it is.
func (h *handlers) position(l listing, top *int32, skiptoken *string) (store.Cursor, int, error) {
	limit := generated.ListConnectorGroupMembersTopDefault
	if top != nil {
		limit = int(*top)
	}
	var after store.Cursor
	if skiptoken != nil {
		var err error
		if after, err = h.tokens.decode(l, *skiptoken); err != nil {
			return 0, 0, badRequest([]reqcheck.Violation{{Target: "$skiptoken", Message: msgInvalidSkipTok}})
		}
	}
	return after, limit, nil
}

// ListConnectorMemberOf answers one page of the groups a connector is in.
func (h *handlers) ListConnectorMemberOf(c echo.Context, id generated.ConnectorID, params generated.ListConnectorMemberOfParams) error {
	groups, err := h.memberOf(c, id)
	if err != nil {
		return err
	}
	a, err := runQuery(c, h, groupsOf(id), &validation.ConnectorGroupQuery, optionsOf(generated.ListConnectorsParams(params)), scanSlice(groups))
	if err != nil {
		return err
	}
	return writeAnswer(c, a, groupCollection)
}

// memberOf is the groups connector id is in (one), or a 404.
func (h *handlers) memberOf(c echo.Context, id uuid.UUID) ([]generated.ConnectorGroup, error) {
	page, err := h.store.MemberOf(storeContext(c), id, 0, 1)
	if errors.Is(err, store.ErrConnectorNotFound) {
		return nil, memberNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("listing the groups of %s: %w", id, err)
	}
	out := make([]generated.ConnectorGroup, len(page.Groups))
	for i, id := range page.Groups {
		g, err := h.store.Group(storeContext(c), id)
		if errors.Is(err, store.ErrGroupNotFound) {
			// Not reached while the store keeps its rules (every join makes
			// its group, and a group with members is not deleted); if it
			// were, the group as an add would make it.
			g = store.ImplicitGroup(id)
		} else if err != nil {
			return nil, fmt.Errorf("reading connector group %s: %w", id, err)
		}
		out[i] = toConnectorGroup(g)
	}
	return out, nil
}

// groupCollection is a page of connector groups as the spec's collection.
func groupCollection(items []generated.ConnectorGroup, count *int64, next *string) any {
	return generated.ConnectorGroupCollection{Value: items, OdataCount: count, OdataNextLink: next}
}

// GetConnectorGroupMember answers the member at the seed page's path, or 404.
func (h *handlers) GetConnectorGroupMember(c echo.Context, app generated.ApplicationsID, id generated.ConnectorID, params generated.GetConnectorGroupMemberParams) error {
	q, err := selection(&validation.ConnectorQuery, params.Select)
	if err != nil {
		return err
	}
	group, err := h.applicationGroup(c, app)
	if err != nil {
		return err
	}
	return h.getMember(c, group, id, q)
}

// GetGroupMember answers the member at the service's own path, or 404.
func (h *handlers) GetGroupMember(c echo.Context, group generated.ConnectorGroupID, id generated.ConnectorID, params generated.GetGroupMemberParams) error {
	q, err := selection(&validation.ConnectorQuery, params.Select)
	if err != nil {
		return err
	}
	if err := h.requireGroup(c, group); err != nil {
		return err
	}
	return h.getMember(c, group, id, q)
}

func (h *handlers) getMember(c echo.Context, group, id uuid.UUID, q *odata.Query[generated.Connector]) error {
	m, err := h.store.Get(storeContext(c), group, id)
	if errors.Is(err, store.ErrMemberNotFound) {
		return memberNotFound(id)
	}
	if err != nil {
		return fmt.Errorf("reading member %s of %s: %w", id, group, err)
	}
	return writeEntity(c, q, toConnector(m))
}

// GetConnector answers a connector the mock knows, or 404.
func (h *handlers) GetConnector(c echo.Context, id generated.ConnectorID, params generated.GetConnectorParams) error {
	q, err := selection(&validation.ConnectorQuery, params.Select)
	if err != nil {
		return err
	}
	m, err := h.store.Connector(storeContext(c), id)
	if errors.Is(err, store.ErrConnectorNotFound) {
		return memberNotFound(id)
	}
	if err != nil {
		return fmt.Errorf("reading connector %s: %w", id, err)
	}
	return writeEntity(c, q, toConnector(m))
}

// GetApplicationConnectorGroup answers the application's connector group:
// the one it is assigned to, or the group with its id (as its first add
// makes it).
func (h *handlers) GetApplicationConnectorGroup(c echo.Context, app generated.ApplicationsID, params generated.GetApplicationConnectorGroupParams) error {
	q, err := selection(&validation.ConnectorGroupQuery, params.Select)
	if err != nil {
		return err
	}
	group, err := h.applicationGroup(c, app)
	if err != nil {
		return err
	}
	g, err := h.store.Group(storeContext(c), group)
	if errors.Is(err, store.ErrGroupNotFound) {
		g = store.ImplicitGroup(group)
	} else if err != nil {
		return fmt.Errorf("reading connector group %s: %w", group, err)
	}
	return writeEntity(c, q, toConnectorGroup(g))
}

// RemoveConnectorGroupMember removes the member at the seed page's path, or answers 404.
func (h *handlers) RemoveConnectorGroupMember(c echo.Context, app generated.ApplicationsID, id generated.ConnectorID, _ generated.RemoveConnectorGroupMemberParams) error {
	return h.removeMember(c, store.Op{Kind: store.OpRemove, Group: app, Member: store.Member{ID: id}, ViaApplication: true})
}

// RemoveGroupMember removes the member at the service's own path, or answers 404.
func (h *handlers) RemoveGroupMember(c echo.Context, group generated.ConnectorGroupID, id generated.ConnectorID, _ generated.RemoveGroupMemberParams) error {
	if err := h.requireGroup(c, group); err != nil {
		return err
	}
	return h.removeMember(c, store.Op{Kind: store.OpRemove, Group: group, Member: store.Member{ID: id}})
}

func (h *handlers) removeMember(c echo.Context, op store.Op) error {
	group, id := op.Group, op.Member.ID
	_, err := h.store.Do(storeContext(c), op)
	switch {
	case errors.Is(err, store.ErrMemberNotFound):
		return memberNotFound(id)
	case errors.Is(err, store.ErrInDefaultGroup):
		return badRequest([]reqcheck.Violation{{Target: "connectorId", Message: msgInDefaultGroup}})
	case err != nil:
		return fmt.Errorf("removing member %s of %s: %w", id, group, err)
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

// toConnector is the stored member as the API shows it: every property
// stored, with id and type always set.
func toConnector(m store.Member) generated.Connector {
	c := m.Connector
	c.ID = &m.ID
	c.OdataType = &connectorType
	return c
}

// connectorType is every connector's @odata.type.
var connectorType = generated.ConnectorOdataTypeHashMicrosoftGraphConnector

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

// url is the absolute URL of member id of group: the spec's member path,
// split at start-up, with both ids written in place (one allocation: this
// runs on every add).
func (l *memberLink) url(c echo.Context, group, id uuid.UUID) string {
	req := c.Request()
	scheme, host := schemeOf(req), req.Host
	if host == "" {
		host = localHost(req)
	}
	first, second := group, id
	if !l.groupFirst {
		first, second = id, group
	}
	prefix := prefixOf(c) // a link keeps the request's /beta or /v1.0
	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(host) + len(prefix) + len(l.path) + 2*36)
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	b.WriteString(prefix)
	var buf [36]byte
	b.WriteString(l.parts[0])
	b.Write(reqcheck.GUIDText(&buf, first))
	b.WriteString(l.parts[1])
	b.Write(reqcheck.GUIDText(&buf, second))
	b.WriteString(l.parts[2])
	return b.String()
}

// prefixOf is the version prefix the request came under, "" for the root.
func prefixOf(c echo.Context) string {
	if rc, ok := c.(*requestContext); ok {
		return rc.prefix
	}
	return ""
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
