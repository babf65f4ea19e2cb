// Package client is the Go client of the connector group members API: the
// generated client with authentication, typed errors and paging on top.
//
//	c, err := client.New("http://127.0.0.1:8080", client.WithToken("secret"))
//	m, err := c.AddMember(ctx, app, client.Connector{ExternalIP: "203.0.113.7", MachineName: "eu-01", Status: generated.ConnectorStatusActive})
//	for m, err := range c.ListMembers(ctx, app) { … }
//
// Every non-2xx answer is an *APIError; test it with errors.Is against
// ErrNotFound, ErrAlreadyMember, ErrUnauthorized and ErrInvalidRequest.
package client

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
)

// Connector is a member of a connector group, as the API shows it.
type Connector = generated.Connector

// Status is a connector's status. Its values are the generated constants
// (generated.ConnectorStatusActive, …): they are not copied here, so a status
// added to the spec needs no change in this package.
type Status = generated.ConnectorStatus

const headerClientRequestID = "client-request-id"

// Client calls the API. It is safe for concurrent use.
type Client struct {
	api    *generated.ClientWithResponses
	server *url.URL
	doer   generated.HttpRequestDoer
	token  func(context.Context) (string, error)
	agent  string
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

// WithTokenSource asks source for the bearer token before every request, for
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

// WithHTTPClient sends requests through hc instead of http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("client: nil *http.Client")
		}
		c.doer = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(agent string) Option {
	return func(c *Client) error {
		c.agent = agent
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
	c := &Client{server: u, doer: http.DefaultClient, agent: "connector-client-go"}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	c.api, err = generated.NewClientWithResponses(server,
		generated.WithHTTPClient(c.doer), generated.WithRequestEditorFn(c.edit))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return c, nil
}

// edit adds what every request carries: the token, the user agent and a
// fresh client-request-id.
func (c *Client) edit(ctx context.Context, req *http.Request) error {
	if c.token != nil {
		token, err := c.token(ctx)
		if err != nil {
			return fmt.Errorf("client: getting a token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if c.agent != "" {
		req.Header.Set("User-Agent", c.agent)
	}
	req.Header.Set(headerClientRequestID, uuid.NewString())
	return nil
}

// AddOption configures AddMember.
type AddOption func(*generated.AddConnectorGroupMemberParams)

// ReturnMinimal asks the server for 204 No Content instead of the stored
// member; AddMember then returns m with the id the server assigned.
func ReturnMinimal() AddOption {
	return func(p *generated.AddConnectorGroupMemberParams) {
		p.Prefer = &generated.Prefer{"return=minimal"}
	}
}

// AddMember adds m to the connector group of app and returns the member as
// stored. Leave m.ID nil to have the server assign one.
func (c *Client) AddMember(ctx context.Context, app uuid.UUID, m Connector, opts ...AddOption) (Connector, error) {
	params := generated.AddConnectorGroupMemberParams{Prefer: &generated.Prefer{"return=representation"}}
	for _, opt := range opts {
		opt(&params)
	}
	rsp, err := c.api.AddConnectorGroupMemberWithResponse(ctx, app, &params, m)
	if err != nil {
		return Connector{}, err
	}
	switch rsp.StatusCode() {
	case http.StatusCreated:
		if rsp.JSON201 == nil {
			return Connector{}, fmt.Errorf("client: 201 without a connector body")
		}
		return *rsp.JSON201, nil
	case http.StatusNoContent:
		id, err := idFromLocation(rsp.HTTPResponse.Header.Get("Location"))
		if err != nil {
			return Connector{}, err
		}
		typ := generated.ConnectorOdataTypeHashMicrosoftGraphConnector
		m.ID, m.OdataType = &id, &typ
		return m, nil
	}
	return Connector{}, newAPIError(rsp.HTTPResponse, rsp.Body)
}

// idFromLocation reads the new member's id, the last segment of Location.
func idFromLocation(location string) (uuid.UUID, error) {
	u, err := url.Parse(location)
	if err != nil || u.Path == "" {
		return uuid.UUID{}, fmt.Errorf("client: 204 with no usable Location header (%q)", location)
	}
	id, err := uuid.Parse(path.Base(u.Path))
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("client: Location %q does not end in an id: %w", location, err)
	}
	return id, nil
}

// GetMember returns the member id of the connector group of app.
func (c *Client) GetMember(ctx context.Context, app, id uuid.UUID) (Connector, error) {
	rsp, err := c.api.GetConnectorGroupMemberWithResponse(ctx, app, id, nil)
	if err != nil {
		return Connector{}, err
	}
	if rsp.StatusCode() == http.StatusOK && rsp.JSON200 != nil {
		return *rsp.JSON200, nil
	}
	return Connector{}, newAPIError(rsp.HTTPResponse, rsp.Body)
}

// RemoveMember removes the member id from the connector group of app.
func (c *Client) RemoveMember(ctx context.Context, app, id uuid.UUID) error {
	rsp, err := c.api.RemoveConnectorGroupMemberWithResponse(ctx, app, id, nil)
	if err != nil {
		return err
	}
	if rsp.StatusCode() == http.StatusNoContent {
		return nil
	}
	return newAPIError(rsp.HTTPResponse, rsp.Body)
}

// ListOption configures ListMembers.
type ListOption func(*generated.ListConnectorGroupMembersParams)

// PageSize asks for n members a page ($top); the server's default otherwise.
func PageSize(n int) ListOption {
	return func(p *generated.ListConnectorGroupMembersParams) {
		top := int32(n)
		p.Top = &top
	}
}

// ListMembers yields every member of the connector group of app, in insertion
// order, fetching page after page by following @odata.nextLink. It stops at
// the first error, which it yields.
func (c *Client) ListMembers(ctx context.Context, app uuid.UUID, opts ...ListOption) iter.Seq2[Connector, error] {
	return func(yield func(Connector, error) bool) {
		var params generated.ListConnectorGroupMembersParams
		for _, opt := range opts {
			opt(&params)
		}
		rsp, err := c.api.ListConnectorGroupMembersWithResponse(ctx, app, &params)
		for {
			if err != nil {
				yield(Connector{}, err)
				return
			}
			if rsp.StatusCode() != http.StatusOK || rsp.JSON200 == nil {
				yield(Connector{}, newAPIError(rsp.HTTPResponse, rsp.Body))
				return
			}
			for _, m := range rsp.JSON200.Value {
				if !yield(m, nil) {
					return
				}
			}
			next := rsp.JSON200.OdataNextLink
			if next == nil {
				return
			}
			rsp, err = c.follow(ctx, *next)
		}
	}
}

// follow fetches a nextLink. The link is opaque, but it must point at the
// server this client was made for: the token is never sent anywhere else.
func (c *Client) follow(ctx context.Context, link string) (*generated.ListConnectorGroupMembersResponse, error) {
	u, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("client: bad @odata.nextLink %q: %w", link, err)
	}
	if !strings.EqualFold(u.Scheme, c.server.Scheme) || !strings.EqualFold(u.Host, c.server.Host) {
		return nil, fmt.Errorf("client: @odata.nextLink %q leaves the server %s", link, c.server.Host)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if err := c.edit(ctx, req); err != nil {
		return nil, err
	}
	rsp, err := c.doer.Do(req)
	if err != nil {
		return nil, err
	}
	return generated.ParseListConnectorGroupMembersResponse(rsp)
}
