// Package client is the Go client of the connector group members API: the
// generated request builders and models, with what production code relies
// on around them.
//
//	c, err := client.New("http://127.0.0.1:8080", client.WithToken("secret"))
//	m, err := c.AddMember(ctx, app, client.Connector{ExternalIP: "203.0.113.7", MachineName: "eu-01", Status: generated.ConnectorStatusActive})
//	for m, err := range c.ListMembers(ctx, app) { … }
//
// # Timeouts
//
// Each attempt of a call gets WithTimeout (30 s by default) to be answered,
// body included. The context's deadline bounds the whole call, retries and
// their waits included: a wait that would outlast the deadline is not begun.
//
// # Retries
//
// A call is retried, WithRetries times (3 by default, 0 for none), when the
// server answers 429, 503 or 504, or the connection fails (refused, reset,
// closed before the answer). It waits as long as Retry-After says (seconds,
// fractional seconds, or an HTTP date), or else backs off exponentially from
// 200 ms, with jitter, up to 10 s. Each retry carries Retry-Attempt: n, and
// every attempt of one call the same client-request-id. An attempt that times
// out is not retried: the server may still be working on it.
//
// An add is safe to retry: the client gives the connector an id before the
// first attempt, and when a retry is answered "already a member" and the
// member stored under that id is the connector sent, the add succeeded (its
// first answer was lost on the way).
//
// # Errors
//
// Every non-2xx answer is an *APIError; test it with errors.Is against
// ErrNotFound, ErrAlreadyMember, ErrUnauthorized, ErrInvalidRequest and
// ErrThrottled. ErrNotFound means "no such member", never "no such route": a
// wrong base URL is not mistaken for a missing member. An answer that is not
// what the API describes (HTML, invalid JSON, a member without an id) is an
// *UnexpectedResponseError naming the status and the request-id.
//
// # Concurrency
//
// A Client is safe for concurrent use. Its default transport keeps up to 64
// idle connections to the server, so that goroutines sharing it reuse
// connections instead of opening new ones.
//
// # Paging and queries
//
// ListMembers follows @odata.nextLink page by page. PageSize sets the page
// size within the range the spec allows (ListConnectorGroupMembersTopMinimum
// to ListConnectorGroupMembersTopMaximum in generated/validation). Select,
// Filter, OrderBy and Count send the OData options every listing takes.
//
// # Connector groups
//
// CreateGroup, GetGroup, UpdateGroup, DeleteGroup and ListGroups manage the
// groups at the service's paths; MoveConnector puts a connector in a group
// (it leaves the one it was in), AssignApplication assigns an application to
// one. A create is the one call not safe to repeat: it is retried only when
// the server cannot have acted on it (see CreateGroup).
package client

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
)

// Connector is a connector to add: the generated model, whose ID is optional.
type Connector = generated.Connector

// Status is a connector's status. Its values are the generated constants
// (generated.ConnectorStatusActive, …): they are not copied here, so a status
// added to the spec needs no change in this package.
type Status = generated.ConnectorStatus

// Member is a connector as the server holds it: the generated model, with
// every property the spec gives a connector (a property added to the spec is
// here after make generate), and its ID as a value, which shadows the
// model's: a Member always has one, because an answer without it is an error
// rather than a Member with a zero ID. (The model keeps ID a pointer because
// on input it is optional; in a Member it points at the same id.) In JSON a
// Member is the connector as the API writes it.
type Member struct {
	ID uuid.UUID `json:"id"`
	generated.Connector
}

// Defaults of New.
const (
	DefaultTimeout = 30 * time.Second
	DefaultRetries = 3
	// DefaultMaxRetryWait is the longest the client waits before a retry
	// (WithMaxRetryWait).
	DefaultMaxRetryWait = time.Minute
	// DefaultCallTimeout bounds a whole call, its attempts and the waits
	// between them included (WithCallTimeout): with the defaults above, a
	// call cannot last longer.
	DefaultCallTimeout = 5 * time.Minute
	// DefaultMaxPages is how many pages one listing follows (WithMaxPages):
	// a million members at the largest page size is about 1,000.
	DefaultMaxPages = 100_000
)

const headerClientRequestID = "client-request-id"

// Client calls the API. It is safe for concurrent use.
type Client struct {
	server  *url.URL
	doer    *http.Client
	token   func(context.Context) (string, error)
	agent   string
	timeout time.Duration
	retries int
	// maxRetryWait, callTimeout and maxPages bound what a server can make a
	// call wait and read: see the options of the same names.
	maxRetryWait time.Duration
	callTimeout  time.Duration
	maxPages     int
	observe      func(Attempt)
	now          func() time.Time                                 // the clock Retry-After and deadlines are read with
	sleep        func(ctx context.Context, d time.Duration) error // waits d before a retry, or until ctx ends
}

// Attempt is one attempt of a call, as WithAttemptObserver reports it.
type Attempt struct {
	Method, URL string // the URL without credentials
	N           int    // 1 for the first attempt
	StatusCode  int    // 0 when no answer came
	Err         error  // why no answer came
	RequestID   string
	// RetryIn is how long the client waits before the next attempt; 0 when
	// this attempt is the call's last.
	RetryIn time.Duration
}

// WithAttemptObserver calls observe after every attempt of every call, with
// what it was answered and how long the client waits before the next: what a
// CLI's --verbose prints. It never sees the token.
func WithAttemptObserver(observe func(Attempt)) Option {
	return func(c *Client) error {
		c.observe = observe
		return nil
	}
}

// Option configures New.
type Option func(*Client) error

// WithToken sends `Authorization: Bearer token` with every request.
func WithToken(token string) Option {
	return func(c *Client) error {
		if token == "" {
			return errors.New("client: empty token")
		}
		c.token = func(context.Context) (string, error) { return token, nil }
		return nil
	}
}

// WithTokenSource asks source for the bearer token before every attempt, for
// tokens that expire.
func WithTokenSource(source func(context.Context) (string, error)) Option {
	return func(c *Client) error {
		if source == nil {
			return errors.New("client: nil token source")
		}
		c.token = source
		return nil
	}
}

// WithHTTPClient sends requests through hc instead of the client's own,
// whose transport keeps connections for concurrent use. WithTimeout still
// bounds each attempt.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("client: nil *http.Client")
		}
		c.doer = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header; the default names this client
// and its version.
func WithUserAgent(agent string) Option {
	return func(c *Client) error {
		c.agent = agent
		return nil
	}
}

// WithTimeout bounds each attempt of a call (default 30 s). The context's
// deadline bounds the whole call.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("client: timeout %s: want a positive duration", d)
		}
		c.timeout = d
		return nil
	}
}

// WithMaxRetryWait is the longest the client waits before a retry (default
// DefaultMaxRetryWait, a minute). A server that asks, with Retry-After, for a
// longer wait is not retried: the call returns its answer at once, an
// *APIError whose RetryAfter says what it asked, for the caller to decide.
func WithMaxRetryWait(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("client: max retry wait %s: want zero or a positive duration", d)
		}
		c.maxRetryWait = d
		return nil
	}
}

// WithCallTimeout bounds each whole call, its attempts and the waits between
// them included (default DefaultCallTimeout; 0 for no bound but the
// context's). A page of a listing is a call: the listing as a whole is bounded
// by the context and WithMaxPages.
func WithCallTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("client: call timeout %s: want zero or a positive duration", d)
		}
		c.callTimeout = d
		return nil
	}
}

// WithMaxPages is how many pages one listing follows at the most (default
// DefaultMaxPages). A listing whose links lead on past it ends with an
// *UnexpectedResponseError saying so.
func WithMaxPages(n int) Option {
	return func(c *Client) error {
		if n < 1 {
			return fmt.Errorf("client: max pages %d: want 1 or more", n)
		}
		c.maxPages = n
		return nil
	}
}

// WithRetries sets how many times a call is retried (default 3; 0 turns
// retrying off).
func WithRetries(n int) Option {
	return func(c *Client) error {
		if n < 0 {
			return fmt.Errorf("client: %d retries: want 0 or more", n)
		}
		c.retries = n
		return nil
	}
}

// New returns a client of the API served at server, such as
// "http://127.0.0.1:8080".
func New(server string, opts ...Option) (*Client, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: server %q is not an http(s) URL", server)
	}
	// The generated request builders resolve "./applications/…" against the
	// server URL: without a trailing slash its last segment (the v1.0 of
	// https://graph.microsoft.com/v1.0) would be dropped.
	u.Path = strings.TrimSuffix(u.Path, "/") + "/"
	u.RawPath = ""
	c := &Client{server: u, agent: DefaultUserAgent(), timeout: DefaultTimeout, retries: DefaultRetries,
		maxRetryWait: DefaultMaxRetryWait, callTimeout: DefaultCallTimeout, maxPages: DefaultMaxPages, now: time.Now, sleep: sleep}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if c.doer == nil {
		c.doer = &http.Client{Transport: defaultTransport()}
	}
	c.doer = KeepTokenAtOrigin(c.doer)
	return c, nil
}

// defaultTransport is net/http's default transport, keeping enough idle
// connections to one server for goroutines sharing the client (net/http
// keeps 2, so 16 goroutines would open and close connections all the time).
func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}

// CallOption configures one call. An option that does not apply to a call
// (PageSize on an add) is ignored.
type CallOption func(*call)

// call is what the options of one call set.
type call struct {
	header  http.Header
	minimal bool
	top     *int
	inspect *Response
	// The OData options of a listing (nil: not sent); count receives @odata.count.
	sel, filter, orderby *string
	count                *int64
	// once marks a call that must not run twice (a create): it is retried
	// only when the server cannot have acted on it.
	once bool
}

// Response is what a call learned of the server's last answer, for a caller
// that wants it (Inspect).
type Response struct {
	// StatusCode is the HTTP status of the last answer.
	StatusCode int
	// RequestID is the server's id of the last attempt; quote it when reporting a problem.
	RequestID string
	// ClientRequestID is the id sent with every attempt of the call.
	ClientRequestID string
	// Attempts is how many attempts the call made.
	Attempts int
	// Header is the last answer's header.
	Header http.Header
}

// WithHeader sends a header with every attempt of the call. A
// client-request-id given so replaces the one the client makes.
func WithHeader(name, value string) CallOption {
	return func(c *call) {
		if c.header == nil {
			c.header = http.Header{}
		}
		c.header.Set(name, value)
	}
}

// WithClientRequestID sends id as the call's client-request-id.
func WithClientRequestID(id string) CallOption { return WithHeader(headerClientRequestID, id) }

// Inspect fills *r with what the call learned of the server's answer,
// request-id included, on success and on failure.
func Inspect(r *Response) CallOption { return func(c *call) { c.inspect = r } }

// ReturnMinimal asks the server for 204 No Content instead of the stored
// member on an add; the Member returned is then the connector sent.
func ReturnMinimal() CallOption { return func(c *call) { c.minimal = true } }

// ErrPageSize is the error (wrapped) of a listing whose PageSize is outside
// the range the spec allows; no request is sent.
var ErrPageSize = errors.New("page size out of range")

// PageSize asks ListMembers for n members a page ($top), within the range
// the spec allows; the server's default otherwise.
func PageSize(n int) CallOption { return func(c *call) { c.top = &n } }

// Select asks a listing for these properties of each item only ($select).
// A member always has its id: a listing of members selects it too.
func Select(properties ...string) CallOption {
	return func(c *call) {
		s := strings.Join(properties, ",")
		c.sel = &s
	}
}

// Filter asks a listing for the items the OData expression keeps ($filter),
// such as "status eq 'active' and startswith(machineName,'eu-')".
func Filter(expr string) CallOption { return func(c *call) { c.filter = &expr } }

// OrderBy asks a listing for its items in this order ($orderby), such as
// "machineName desc".
func OrderBy(expr string) CallOption { return func(c *call) { c.orderby = &expr } }

// Count asks a listing for how many items it holds in all ($count=true, after
// any Filter), and stores the server's answer in *n when the first page
// arrives.
func Count(n *int64) CallOption { return func(c *call) { c.count = n } }

// withID is a $select of members with id added when missing: a Member
// always has its id.
func withID(sel *string) *string {
	if sel == nil {
		return nil
	}
	for _, name := range strings.Split(*sel, ",") {
		if n := strings.TrimSpace(name); n == "id" || n == "*" {
			return sel
		}
	}
	s := *sel + ",id"
	return &s
}

func settings(opts []CallOption) *call {
	c := &call{}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// AddMember adds m to the connector group of app and returns the member as
// stored. Leave m.ID nil to have the client assign one (before the first
// attempt, which makes the add safe to retry).
func (c *Client) AddMember(ctx context.Context, app uuid.UUID, m Connector, opts ...CallOption) (Member, error) {
	if m.ID == nil {
		id := uuid.New()
		m.ID = &id
	}
	var body generated.NewMember
	if err := body.FromConnector(m); err != nil {
		return Member{}, fmt.Errorf("client: %w", err)
	}
	minimal := func(rep *reply) (Member, error) {
		id := *m.ID
		if loc := rep.header.Get("Location"); loc != "" {
			var err error
			if id, err = idFromLocation(loc); err != nil {
				return Member{}, rep.unexpected(err.Error())
			}
		}
		return toMember(id, m), nil
	}
	// A retry answered "already a member": if the member is the connector
	// sent, the first attempt stored it and its answer was lost.
	return c.add(ctx, app, *m.ID, body, opts, minimal, func(got Member) bool { return sameConnector(got, m) })
}

// AddMemberByReference adds the connector id, which the server knows, to the
// connector group of app, as the Graph SDKs do: the body is an OData reference,
// {"@odata.id": "<server>/onPremisesPublishingProfiles/applicationProxy/connectors/<id>"}
// (the server's URL without any user or password it carries).
// It returns the connector as stored; a connector the server does not know is
// an error matching ErrNotFound.
func (c *Client) AddMemberByReference(ctx context.Context, app, id uuid.UUID, opts ...CallOption) (Member, error) {
	var body generated.NewMember
	if err := body.FromReferenceCreate(generated.ReferenceCreate{OdataID: c.entityURL("connectors", id)}); err != nil {
		return Member{}, fmt.Errorf("client: %w", err)
	}
	minimal := func(*reply) (Member, error) { return Member{ID: id}, nil }
	// A retry answered "already a member": the first attempt added it.
	return c.add(ctx, app, id, body, opts, minimal, func(Member) bool { return true })
}

// add posts body, an add of connector id, to the group of app, and returns
// the member a 201 carries, or the one minimal makes of a 204. An add that
// a retry finds done already ("already a member") succeeded when the member
// stored is what the add meant (mine).
func (c *Client) add(ctx context.Context, app, id uuid.UUID, body generated.NewMember, opts []CallOption,
	minimal func(*reply) (Member, error), mine func(Member) bool) (Member, error) {
	cs := settings(opts)
	prefer := generated.Prefer{"return=representation"}
	if cs.minimal {
		prefer = generated.Prefer{"return=minimal"}
	}
	req, err := generated.NewAddConnectorGroupMemberRequest(c.server.String(), app, &generated.AddConnectorGroupMemberParams{Prefer: &prefer}, body)
	if err != nil {
		return Member{}, fmt.Errorf("client: %w", err)
	}
	rep, err := c.send(ctx, req, cs)
	if err != nil {
		return Member{}, err
	}
	switch rep.status {
	case http.StatusCreated:
		return decodeMember(rep)
	case http.StatusNoContent:
		return minimal(rep)
	}
	apiErr := rep.apiError()
	if rep.attempts > 1 && errors.Is(apiErr, ErrAlreadyMember) {
		if got, err := c.GetMember(ctx, app, id, opts...); err == nil && mine(got) {
			return got, nil
		}
	}
	return Member{}, apiErr
}

// GetConnector returns the connector id, as the server knows it, whichever
// groups it is a member of.
func (c *Client) GetConnector(ctx context.Context, id uuid.UUID, opts ...CallOption) (Member, error) {
	req, err := generated.NewGetConnectorRequest(c.server.String(), id, nil)
	return c.readMember(ctx, req, err, opts)
}

// readMember sends req, as a generated builder made it (err, its error), and
// reads the member a 200 carries.
func (c *Client) readMember(ctx context.Context, req *http.Request, err error, opts []CallOption) (Member, error) {
	if err != nil {
		return Member{}, fmt.Errorf("client: %w", err)
	}
	rep, err := c.send(ctx, req, settings(opts))
	if err != nil {
		return Member{}, err
	}
	if rep.status != http.StatusOK {
		return Member{}, rep.apiError()
	}
	return decodeMember(rep)
}

// idFromLocation reads the new member's id, the last segment of Location.
func idFromLocation(location string) (uuid.UUID, error) {
	u, err := url.Parse(location)
	if err != nil || u.Path == "" {
		return uuid.UUID{}, fmt.Errorf("204 with a Location that is no URL (%q)", location)
	}
	id, err := uuid.Parse(path.Base(u.Path))
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("204 with a Location that does not end in an id (%q)", location)
	}
	return id, nil
}

// GetMember returns the member id of the connector group of app.
func (c *Client) GetMember(ctx context.Context, app, id uuid.UUID, opts ...CallOption) (Member, error) {
	req, err := generated.NewGetConnectorGroupMemberRequest(c.server.String(), app, id, nil)
	return c.readMember(ctx, req, err, opts)
}

// RemoveMember removes the member id from the connector group of app.
func (c *Client) RemoveMember(ctx context.Context, app, id uuid.UUID, opts ...CallOption) error {
	req, err := generated.NewRemoveConnectorGroupMemberRequest(c.server.String(), app, id, nil)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	rep, err := c.send(ctx, req, settings(opts))
	if err != nil {
		return err
	}
	if rep.status != http.StatusNoContent {
		return rep.apiError()
	}
	return nil
}

// ListMembers yields every member of the connector group of app, in insertion
// order, fetching page after page by following @odata.nextLink. It stops at
// the first error, which it yields, and when ctx ends.
func (c *Client) ListMembers(ctx context.Context, app uuid.UUID, opts ...CallOption) iter.Seq2[Member, error] {
	return eachOf(ctx, c.ListPages(ctx, app, opts...))
}

// ListPages is ListMembers a page at a time, each yielded as it arrives.
func (c *Client) ListPages(ctx context.Context, app uuid.UUID, opts ...CallOption) iter.Seq2[[]Member, error] {
	return c.pages(ctx, opts, func(q query) (*http.Request, error) {
		return generated.NewListConnectorGroupMembersRequest(c.server.String(), app, &generated.ListConnectorGroupMembersParams{
			Top: q.top, Select: withID(q.sel), Filter: q.filter, Orderby: q.orderby, Count: q.count})
	})
}

// ListConnectors yields every connector the server knows, in the order they
// became known, following @odata.nextLink as ListMembers does.
func (c *Client) ListConnectors(ctx context.Context, opts ...CallOption) iter.Seq2[Member, error] {
	return eachOf(ctx, c.ListConnectorPages(ctx, opts...))
}

// ListConnectorPages is ListConnectors a page at a time.
func (c *Client) ListConnectorPages(ctx context.Context, opts ...CallOption) iter.Seq2[[]Member, error] {
	return c.pages(ctx, opts, func(q query) (*http.Request, error) {
		return generated.NewListConnectorsRequest(c.server.String(), &generated.ListConnectorsParams{
			Top: q.top, Select: withID(q.sel), Filter: q.filter, Orderby: q.orderby, Count: q.count})
	})
}

// eachOf yields the items of pages one by one.
func eachOf[T any](ctx context.Context, pages iter.Seq2[[]T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for page, err := range pages {
			if err != nil {
				yield(zero, err)
				return
			}
			for _, v := range page {
				if err := ctx.Err(); err != nil {
					yield(zero, err)
					return
				}
				if !yield(v, nil) {
					return
				}
			}
		}
	}
}

// pages fetches the first page of connectors with the request first makes,
// then follows @odata.nextLink, yielding each page's members as they arrive.
func (c *Client) pages(ctx context.Context, opts []CallOption, first func(q query) (*http.Request, error)) iter.Seq2[[]Member, error] {
	return pagesOf(ctx, c, opts, first, func(body []byte) (page[Member], error) {
		var p generated.ConnectorCollection
		if err := json.Unmarshal(body, &p); err != nil {
			return page[Member]{}, errors.New("the body is not a page of connectors: " + err.Error())
		}
		out := page[Member]{items: make([]Member, len(p.Value)), count: p.OdataCount, next: p.OdataNextLink}
		for i, con := range p.Value {
			var err error
			if out.items[i], err = memberOf(con); err != nil {
				return page[Member]{}, err
			}
		}
		return out, nil
	})
}

// page is one page of a collection as pagesOf reads it.
type page[T any] struct {
	items []T
	count *int64
	next  *string
}

// query is what the call options ask of a listing's first request: the
// generated parameters every collection takes.
type query struct {
	top                  *int32
	sel, filter, orderby *string
	count                *bool
}

// pagesOf fetches the first page with the request first makes, then follows
// @odata.nextLink, yielding each page's items, which decode reads, as they
// arrive.
func pagesOf[T any](ctx context.Context, c *Client, opts []CallOption, first func(q query) (*http.Request, error),
	decode func([]byte) (page[T], error)) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		cs := settings(opts)
		q := query{sel: cs.sel, filter: cs.filter, orderby: cs.orderby}
		if cs.count != nil {
			q.count = new(bool)
			*q.count = true
		}
		if cs.top != nil {
			n := *cs.top
			if n < generated.ListConnectorGroupMembersTopMinimum || n > generated.ListConnectorGroupMembersTopMaximum {
				yield(nil, fmt.Errorf("client: %w: %d, want %d to %d", ErrPageSize, n,
					generated.ListConnectorGroupMembersTopMinimum, generated.ListConnectorGroupMembersTopMaximum))
				return
			}
			t := int32(n)
			q.top = &t
		}
		req, err := first(q)
		// The links read, by hash: a server that sends a new 4 MiB link with
		// every page costs 32 bytes a page here, not 4 MiB.
		seen := map[[sha256.Size]byte]bool{}
		for pages := 0; ; pages++ {
			if err != nil {
				yield(nil, err)
				return
			}
			var rep *reply
			if rep, err = c.send(ctx, req, cs); err != nil {
				yield(nil, err)
				return
			}
			if rep.status != http.StatusOK {
				yield(nil, rep.apiError())
				return
			}
			p, derr := decode(rep.body)
			if derr != nil {
				yield(nil, rep.unexpected(derr.Error()))
				return
			}
			if cs.count != nil && p.count != nil && pages == 0 {
				*cs.count = *p.count
			}
			if !yield(p.items, nil) || p.next == nil {
				return
			}
			link := *p.next
			sum := sha256.Sum256([]byte(link))
			if seen[sum] {
				yield(nil, rep.unexpected(fmt.Sprintf("@odata.nextLink %q leads back to a page already read", truncate(link, 200))))
				return
			}
			if pages+1 >= c.maxPages {
				yield(nil, rep.unexpected(fmt.Sprintf("the listing has more than %d pages, the most the client follows (WithMaxPages); stopped before @odata.nextLink %q", c.maxPages, truncate(link, 200))))
				return
			}
			seen[sum] = true
			req, err = c.nextRequest(ctx, link)
		}
	}
}

// nextRequest is the request for a nextLink. The link is opaque, but it must
// point at the server this client was made for: the token is never sent
// anywhere else. A relative link is resolved against the server.
func (c *Client) nextRequest(ctx context.Context, link string) (*http.Request, error) {
	u, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("client: bad @odata.nextLink %q: %w", link, err)
	}
	u = c.server.ResolveReference(u)
	if !strings.EqualFold(u.Scheme, c.server.Scheme) || !strings.EqualFold(u.Host, c.server.Host) {
		return nil, fmt.Errorf("client: @odata.nextLink %q leaves the server %s", link, c.server.Host)
	}
	return http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
}

// decodeMember reads a member from a 200 or 201.
func decodeMember(rep *reply) (Member, error) {
	var con generated.Connector
	if err := json.Unmarshal(rep.body, &con); err != nil {
		return Member{}, rep.unexpected("the body is not a connector: " + err.Error())
	}
	m, err := memberOf(con)
	if err != nil {
		return Member{}, rep.unexpected(err.Error())
	}
	return m, nil
}

// memberOf checks that the server's connector has what a stored member has.
func memberOf(con generated.Connector) (Member, error) {
	if con.ID == nil {
		return Member{}, errors.New("a member without an id")
	}
	return toMember(*con.ID, con), nil
}

// toMember is connector con with id.
func toMember(id uuid.UUID, con generated.Connector) Member {
	m := Member{ID: id, Connector: con}
	m.Connector.ID = &m.ID
	return m
}

// sameConnector tells whether the member the server holds has every
// property of the connector sent (the server adds only its type).
func sameConnector(got Member, sent Connector) bool {
	a, errA := json.Marshal(sent)
	got.Connector.OdataType = sent.OdataType
	b, errB := json.Marshal(got.Connector)
	return errA == nil && errB == nil && string(a) == string(b)
}

// UserAgent is the User-Agent the client sends.
func (c *Client) UserAgent() string { return c.agent }
