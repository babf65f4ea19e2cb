package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
)

// Group is a connector group as the server answers it: the generated model,
// with every property the spec gives a group.
type Group = generated.ConnectorGroup

// NewGroup is what creating a group sends: its name and, optionally, region.
type NewGroup = generated.ConnectorGroupCreate

// GroupChanges is what updating a group sends: the properties to set.
type GroupChanges = generated.ConnectorGroupUpdate

// Region is a connector group's region. Its values are the generated
// constants (generated.ConnectorGroupRegionEur, …).
type Region = generated.ConnectorGroupRegion

// CreateGroup creates a connector group and returns it as the server made
// it. A create is not safe to run twice (each makes a group), so it is
// retried only when the server cannot have acted on it: a refused
// connection, a 429 or a 503. After a lost answer, list the groups by name
// (Filter) before creating again.
func (c *Client) CreateGroup(ctx context.Context, g NewGroup, opts ...CallOption) (Group, error) {
	req, err := generated.NewCreateConnectorGroupRequest(c.server.String(), nil, g)
	if err != nil {
		return Group{}, fmt.Errorf("client: %w", err)
	}
	cs := settings(opts)
	cs.once = true
	rep, err := c.send(ctx, req, cs)
	if err != nil {
		return Group{}, err
	}
	if rep.status != http.StatusCreated {
		return Group{}, rep.apiError()
	}
	return decodeGroup(rep)
}

// GetGroup returns the connector group id.
func (c *Client) GetGroup(ctx context.Context, id uuid.UUID, opts ...CallOption) (Group, error) {
	req, err := generated.NewGetConnectorGroupRequest(c.server.String(), id, nil)
	return c.readGroup(ctx, req, err, opts)
}

// ApplicationGroup returns the connector group of application app: the one
// it is assigned to (AssignApplication), or its own.
func (c *Client) ApplicationGroup(ctx context.Context, app uuid.UUID, opts ...CallOption) (Group, error) {
	req, err := generated.NewGetApplicationConnectorGroupRequest(c.server.String(), app, nil)
	return c.readGroup(ctx, req, err, opts)
}

// readGroup sends req, as a generated builder made it (err, its error), and
// reads the group a 200 carries.
func (c *Client) readGroup(ctx context.Context, req *http.Request, err error, opts []CallOption) (Group, error) {
	if err != nil {
		return Group{}, fmt.Errorf("client: %w", err)
	}
	rep, err := c.send(ctx, req, settings(opts))
	if err != nil {
		return Group{}, err
	}
	if rep.status != http.StatusOK {
		return Group{}, rep.apiError()
	}
	return decodeGroup(rep)
}

// UpdateGroup sets the properties changes names on the group id (PATCH: a
// property left nil keeps its value). Setting values is safe to retry.
func (c *Client) UpdateGroup(ctx context.Context, id uuid.UUID, changes GroupChanges, opts ...CallOption) error {
	req, err := generated.NewUpdateConnectorGroupRequest(c.server.String(), id, nil, changes)
	return c.expectNoContent(ctx, req, err, opts)
}

// DeleteGroup deletes the group id, which must have no members and no
// applications. When a retry finds the group gone, the first attempt
// deleted it (its answer was lost) and DeleteGroup succeeds.
func (c *Client) DeleteGroup(ctx context.Context, id uuid.UUID, opts ...CallOption) error {
	req, err := generated.NewDeleteConnectorGroupRequest(c.server.String(), id, nil)
	var resp Response
	err = c.expectNoContent(ctx, req, err, append(opts, Inspect(&resp)))
	if resp.Attempts > 1 && errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// MoveConnector makes the connector id, which the server knows, a member of
// the group: it leaves the group it was in (a connector is in one group).
// When a retry finds it a member already, the first attempt moved it.
func (c *Client) MoveConnector(ctx context.Context, group, id uuid.UUID, opts ...CallOption) error {
	var body generated.NewMember
	if err := body.FromReferenceCreate(generated.ReferenceCreate{OdataID: c.entityURL("connectors", id)}); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	minimal := generated.Prefer{"return=minimal"}
	req, err := generated.NewAddGroupMemberRequest(c.server.String(), group, &generated.AddGroupMemberParams{Prefer: &minimal}, body)
	var resp Response
	err = c.expectNoContent(ctx, req, err, append(opts, Inspect(&resp)))
	if resp.Attempts > 1 && errors.Is(err, ErrAlreadyMember) {
		return nil
	}
	return err
}

// AssignApplication assigns application app to the group: its connector
// group, and its members at /applications/{app}/connectorGroup/members, are
// then the group's. Assigning is safe to retry.
func (c *Client) AssignApplication(ctx context.Context, app, group uuid.UUID, opts ...CallOption) error {
	body := generated.GroupReference{OdataID: c.entityURL("connectorGroups", group)}
	req, err := generated.NewAssignApplicationConnectorGroupRequest(c.server.String(), app, nil, body)
	return c.expectNoContent(ctx, req, err, opts)
}

// entityURL is the URL of an entity of the Application Proxy profile, as an
// @odata.id names it (the server's URL without any user or password).
func (c *Client) entityURL(collection string, id uuid.UUID) string {
	server := *c.server
	server.User = nil
	return server.JoinPath("onPremisesPublishingProfiles", "applicationProxy", collection, id.String()).String()
}

// expectNoContent sends req, as a generated builder made it (err, its
// error), and wants 204.
func (c *Client) expectNoContent(ctx context.Context, req *http.Request, err error, opts []CallOption) error {
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

// ListGroups yields every connector group (the default one first, then the
// others in the order they were created), following @odata.nextLink; it
// takes PageSize, Select, Filter, OrderBy and Count.
func (c *Client) ListGroups(ctx context.Context, opts ...CallOption) iter.Seq2[Group, error] {
	return eachOf(ctx, c.ListGroupPages(ctx, opts...))
}

// ListGroupPages is ListGroups a page at a time.
func (c *Client) ListGroupPages(ctx context.Context, opts ...CallOption) iter.Seq2[[]Group, error] {
	return pagesOf(ctx, c, opts, func(q query) (*http.Request, error) {
		return generated.NewListConnectorGroupsRequest(c.server.String(), &generated.ListConnectorGroupsParams{
			Top: q.top, Select: q.sel, Filter: q.filter, Orderby: q.orderby, Count: q.count})
	}, func(body []byte) (page[Group], error) {
		var p generated.ConnectorGroupCollection
		if err := json.Unmarshal(body, &p); err != nil {
			return page[Group]{}, errors.New("the body is not a page of connector groups: " + err.Error())
		}
		return page[Group]{items: p.Value, count: p.OdataCount, next: p.OdataNextLink}, nil
	})
}

// ListGroupMemberPages yields the members of the connector group, a page at
// a time, at the service's path (a group that does not exist is ErrNotFound).
func (c *Client) ListGroupMemberPages(ctx context.Context, group uuid.UUID, opts ...CallOption) iter.Seq2[[]Member, error] {
	return c.pages(ctx, opts, func(q query) (*http.Request, error) {
		return generated.NewListGroupMembersRequest(c.server.String(), group, &generated.ListGroupMembersParams{
			Top: q.top, Select: withID(q.sel), Filter: q.filter, Orderby: q.orderby, Count: q.count})
	})
}

// decodeGroup reads a group from a 200 or 201.
func decodeGroup(rep *reply) (Group, error) {
	var g Group
	if err := json.Unmarshal(rep.body, &g); err != nil {
		return Group{}, rep.unexpected("the body is not a connector group: " + err.Error())
	}
	if g.ID == uuid.Nil {
		return Group{}, rep.unexpected("a connector group without an id")
	}
	return g, nil
}
