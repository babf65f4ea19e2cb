package server

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/generated/validation"
	"github.com/connector-group/members-api/server/store"
)

// The /$count segment of every collection: how many items it holds (those
// $filter keeps), as text, after the same checks (404s) as its listing.

// CountConnectorGroupMembers counts the members at the seed page's path.
func (h *handlers) CountConnectorGroupMembers(c echo.Context, app generated.ApplicationsID, params generated.CountConnectorGroupMembersParams) error {
	group, err := h.applicationGroup(c, app)
	if err != nil {
		return err
	}
	return writeCount(c, &validation.ConnectorQuery, params.Filter, h.scanMembers(&group))
}

// CountGroupMembers counts the members of a connector group.
func (h *handlers) CountGroupMembers(c echo.Context, group generated.ConnectorGroupID, params generated.CountGroupMembersParams) error {
	if err := h.requireGroup(c, group); err != nil {
		return err
	}
	return writeCount(c, &validation.ConnectorQuery, params.Filter, h.scanMembers(&group))
}

// CountConnectors counts the connectors the mock knows.
func (h *handlers) CountConnectors(c echo.Context, params generated.CountConnectorsParams) error {
	return writeCount(c, &validation.ConnectorQuery, params.Filter, h.scanMembers(nil))
}

// CountConnectorGroups counts the connector groups.
func (h *handlers) CountConnectorGroups(c echo.Context, params generated.CountConnectorGroupsParams) error {
	return writeCount(c, &validation.ConnectorGroupQuery, params.Filter, h.scanGroups())
}

// CountGroupApplications counts the applications assigned to a connector group.
func (h *handlers) CountGroupApplications(c echo.Context, group generated.ConnectorGroupID, params generated.CountGroupApplicationsParams) error {
	err := writeCount(c, &validation.ApplicationQuery, params.Filter, h.scanApplications(group))
	if errors.Is(err, store.ErrGroupNotFound) {
		return groupNotFound(group)
	}
	return err
}

// CountConnectorMemberOf counts the groups a connector is in (one).
func (h *handlers) CountConnectorMemberOf(c echo.Context, id generated.ConnectorID, params generated.CountConnectorMemberOfParams) error {
	groups, err := h.memberOf(c, id)
	if err != nil {
		return err
	}
	return writeCount(c, &validation.ConnectorGroupQuery, params.Filter, scanSlice(groups))
}

// HeadCountConnectorGroupMembers answers as CountConnectorGroupMembers, without the body.
func (h *handlers) HeadCountConnectorGroupMembers(c echo.Context, app generated.ApplicationsID, params generated.HeadCountConnectorGroupMembersParams) error {
	return h.CountConnectorGroupMembers(c, app, generated.CountConnectorGroupMembersParams(params))
}

// HeadCountGroupMembers answers as CountGroupMembers, without the body.
func (h *handlers) HeadCountGroupMembers(c echo.Context, group generated.ConnectorGroupID, params generated.HeadCountGroupMembersParams) error {
	return h.CountGroupMembers(c, group, generated.CountGroupMembersParams(params))
}

// HeadCountConnectors answers as CountConnectors, without the body.
func (h *handlers) HeadCountConnectors(c echo.Context, params generated.HeadCountConnectorsParams) error {
	return h.CountConnectors(c, generated.CountConnectorsParams(params))
}

// HeadCountConnectorGroups answers as CountConnectorGroups, without the body.
func (h *handlers) HeadCountConnectorGroups(c echo.Context, params generated.HeadCountConnectorGroupsParams) error {
	return h.CountConnectorGroups(c, generated.CountConnectorGroupsParams(params))
}

// HeadCountGroupApplications answers as CountGroupApplications, without the body.
func (h *handlers) HeadCountGroupApplications(c echo.Context, group generated.ConnectorGroupID, params generated.HeadCountGroupApplicationsParams) error {
	return h.CountGroupApplications(c, group, generated.CountGroupApplicationsParams(params))
}

// HeadCountConnectorMemberOf answers as CountConnectorMemberOf, without the body.
func (h *handlers) HeadCountConnectorMemberOf(c echo.Context, id generated.ConnectorID, params generated.HeadCountConnectorMemberOfParams) error {
	return h.CountConnectorMemberOf(c, id, generated.CountConnectorMemberOfParams(params))
}
