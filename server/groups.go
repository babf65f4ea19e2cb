package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/generated/validation"
	"github.com/connector-group/members-api/internal/reqcheck"
	"github.com/connector-group/members-api/server/store"
)

// The connector groups as resources at the service's paths, as the beta
// connectorGroup pages document them; the rules (a group with members is
// not deleted, nor given a new region; the default group stays) are the
// store's.

// allGroups is the listing of every connector group, for its $skiptoken.
var allGroups = listing{kind: 'G'}

// Messages of the refused group operations. The first is the service's
// "Delete connectorGroup" page's wording; the others are undocumented.
const (
	msgGroupNotEmpty = "All connectors and applications must be removed from the connector group before a connector group can be deleted."
	msgDefaultGroup  = "The default connector group cannot be deleted."
	msgRegionLocked  = "This region can only be set if no connectors or applications are assigned to the connectorGroup."
	// A connector is always in a group (the resource page: "Each … connector
	// is always part of a connector group"): out of any other, it is in the
	// default one, which it leaves by being added to another.
	msgInDefaultGroup = "A connector is always a member of a connector group: add it to another group to move it out of the default group."
)

// GetApplicationProxyProfile answers the Application Proxy publishing profile.
func (h *handlers) GetApplicationProxyProfile(c echo.Context, _ generated.GetApplicationProxyProfileParams) error {
	return c.JSON(http.StatusOK, generated.OnPremisesPublishingProfile{
		OdataType: generated.OnPremisesPublishingProfileOdataTypeHashMicrosoftGraphOnPremisesPublishingProfile,
		ID:        generated.OnPremisesPublishingProfileIDApplicationProxy, IsEnabled: true,
	})
}

// HeadApplicationProxyProfile answers as GetApplicationProxyProfile, without the body.
func (h *handlers) HeadApplicationProxyProfile(c echo.Context, params generated.HeadApplicationProxyProfileParams) error {
	return h.GetApplicationProxyProfile(c, generated.GetApplicationProxyProfileParams(params))
}

// ListConnectorGroups answers one page of the connector groups.
func (h *handlers) ListConnectorGroups(c echo.Context, params generated.ListConnectorGroupsParams) error {
	a, err := runQuery(c, h, allGroups, &validation.ConnectorGroupQuery, optionsOf(generated.ListConnectorsParams(params)), h.scanGroups())
	if err != nil {
		return err
	}
	return writeAnswer(c, a, groupCollection)
}

// HeadConnectorGroups answers as ListConnectorGroups, without the body.
func (h *handlers) HeadConnectorGroups(c echo.Context, params generated.HeadConnectorGroupsParams) error {
	return h.ListConnectorGroups(c, generated.ListConnectorGroupsParams(params))
}

// CreateConnectorGroup creates a group with the properties the validator
// decoded and answers 201 with it.
func (h *handlers) CreateConnectorGroup(c echo.Context, _ generated.CreateConnectorGroupParams) error {
	body, err := bodyOf[generated.ConnectorGroupCreate](c)
	if err != nil {
		return err
	}
	id := newGUID()
	if _, err := h.store.Do(storeContext(c), store.Op{Kind: store.OpCreateGroup, Group: id, GroupDoc: *body}); err != nil {
		return fmt.Errorf("creating connector group %s: %w", id, err)
	}
	g, err := h.store.Group(storeContext(c), id)
	if err != nil {
		return fmt.Errorf("reading connector group %s: %w", id, err)
	}
	c.Response().Header()[echo.HeaderLocation] = []string{baseURL(c) + prefixOf(c) + strings.Replace(h.groupPath, "{connectorGroupId}", id.String(), 1)}
	return c.JSON(http.StatusCreated, toConnectorGroup(g))
}

// GetConnectorGroup answers a connector group, or 404.
func (h *handlers) GetConnectorGroup(c echo.Context, id generated.ConnectorGroupID, params generated.GetConnectorGroupParams) error {
	q, err := selection(&validation.ConnectorGroupQuery, params.Select)
	if err != nil {
		return err
	}
	g, err := h.store.Group(storeContext(c), id)
	if errors.Is(err, store.ErrGroupNotFound) {
		return groupNotFound(id)
	}
	if err != nil {
		return fmt.Errorf("reading connector group %s: %w", id, err)
	}
	return writeEntity(c, q, toConnectorGroup(g))
}

// HeadConnectorGroup answers as GetConnectorGroup, without the body.
func (h *handlers) HeadConnectorGroup(c echo.Context, id generated.ConnectorGroupID, params generated.HeadConnectorGroupParams) error {
	return h.GetConnectorGroup(c, id, generated.GetConnectorGroupParams(params))
}

// UpdateConnectorGroup sets the properties the body names, and answers 204.
func (h *handlers) UpdateConnectorGroup(c echo.Context, id generated.ConnectorGroupID, _ generated.UpdateConnectorGroupParams) error {
	body, err := bodyOf[generated.ConnectorGroupUpdate](c)
	if err != nil {
		return err
	}
	_, err = h.store.Do(storeContext(c), store.Op{Kind: store.OpUpdateGroup, Group: id, GroupPatch: *body})
	switch {
	case errors.Is(err, store.ErrGroupNotFound):
		return groupNotFound(id)
	case errors.Is(err, store.ErrRegionLocked):
		return badRequest([]reqcheck.Violation{{Target: "/region", Message: msgRegionLocked}})
	case err != nil:
		return fmt.Errorf("updating connector group %s: %w", id, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// DeleteConnectorGroup deletes a group without members, and answers 204.
func (h *handlers) DeleteConnectorGroup(c echo.Context, id generated.ConnectorGroupID, _ generated.DeleteConnectorGroupParams) error {
	_, err := h.store.Do(storeContext(c), store.Op{Kind: store.OpDeleteGroup, Group: id})
	switch {
	case errors.Is(err, store.ErrGroupNotFound):
		return groupNotFound(id)
	case errors.Is(err, store.ErrGroupNotEmpty):
		return badRequest([]reqcheck.Violation{{Target: "connectorGroupId", Message: msgGroupNotEmpty}})
	case errors.Is(err, store.ErrDefaultGroup):
		return badRequest([]reqcheck.Violation{{Target: "connectorGroupId", Message: msgDefaultGroup}})
	case err != nil:
		return fmt.Errorf("deleting connector group %s: %w", id, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// AssignApplicationConnectorGroup assigns the application to the group the
// body's @odata.id names, and answers 204.
func (h *handlers) AssignApplicationConnectorGroup(c echo.Context, app generated.ApplicationsID, _ generated.AssignApplicationConnectorGroupParams) error {
	body, err := bodyOf[generated.GroupReference](c)
	if err != nil {
		return err
	}
	group, err := referencedID(body.OdataID)
	if err != nil {
		return err
	}
	_, err = h.store.Do(storeContext(c), store.Op{Kind: store.OpAssign, Group: group, Member: store.Member{ID: app}})
	if errors.Is(err, store.ErrGroupNotFound) {
		return notFoundAt(group, "/@odata.id")
	}
	if err != nil {
		return fmt.Errorf("assigning application %s to %s: %w", app, group, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// ListGroupApplications answers one page of the applications assigned to a group.
func (h *handlers) ListGroupApplications(c echo.Context, group generated.ConnectorGroupID, params generated.ListGroupApplicationsParams) error {
	a, err := runQuery(c, h, applicationsOf(group), &validation.ApplicationQuery, optionsOf(generated.ListConnectorsParams(params)), h.scanApplications(group))
	if errors.Is(err, store.ErrGroupNotFound) {
		return groupNotFound(group)
	}
	if err != nil {
		return err
	}
	return writeAnswer(c, a, func(items []generated.Application, count *int64, next *string) any {
		return generated.ApplicationCollection{Value: items, OdataCount: count, OdataNextLink: next}
	})
}

// HeadGroupApplications answers as ListGroupApplications, without the body.
func (h *handlers) HeadGroupApplications(c echo.Context, group generated.ConnectorGroupID, params generated.HeadGroupApplicationsParams) error {
	return h.ListGroupApplications(c, group, generated.ListGroupApplicationsParams(params))
}

// groupNotFound is the 404 for a connector group that does not exist.
func groupNotFound(id uuid.UUID) *apiError { return notFoundAt(id, "connectorGroupId") }

// requireGroup answers 404 for a group the service's paths name that does
// not exist, unless the mock makes groups on first use there too
// (Config.ImplicitGroups).
func (h *handlers) requireGroup(c echo.Context, id uuid.UUID) error {
	if h.implicitGroups {
		return nil
	}
	_, err := h.store.Group(storeContext(c), id)
	if errors.Is(err, store.ErrGroupNotFound) {
		return groupNotFound(id)
	}
	return err
}

// connectorGroupType is every connector group's @odata.type.
var connectorGroupType = generated.ConnectorGroupOdataTypeHashMicrosoftGraphConnectorGroup

// toConnectorGroup is the stored group as the API shows it: every property
// stored, with its id and type.
func toConnectorGroup(g store.Group) generated.ConnectorGroup {
	out := g.ConnectorGroup
	out.ID = g.ID
	out.OdataType = connectorGroupType
	return out
}
