package server

import (
	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/generated/admin"
)

// HEAD is answered wherever GET is (RFC 9110, 9.3.2): each HEAD operation of
// the specs is its GET, and net/http sends no body for a HEAD request.

// HeadConnectorGroupMembers answers as ListConnectorGroupMembers, without the body.
func (h *handlers) HeadConnectorGroupMembers(c echo.Context, app generated.ApplicationsID, params generated.HeadConnectorGroupMembersParams) error {
	return h.ListConnectorGroupMembers(c, app, generated.ListConnectorGroupMembersParams(params))
}

// HeadConnectorGroupMember answers as GetConnectorGroupMember, without the body.
func (h *handlers) HeadConnectorGroupMember(c echo.Context, app generated.ApplicationsID, id generated.ConnectorID, params generated.HeadConnectorGroupMemberParams) error {
	return h.GetConnectorGroupMember(c, app, id, generated.GetConnectorGroupMemberParams(params))
}

// HeadGroupMembers answers as ListGroupMembers, without the body.
func (h *handlers) HeadGroupMembers(c echo.Context, group generated.ConnectorGroupID, params generated.HeadGroupMembersParams) error {
	return h.ListGroupMembers(c, group, generated.ListGroupMembersParams(params))
}

// HeadGroupMember answers as GetGroupMember, without the body.
func (h *handlers) HeadGroupMember(c echo.Context, group generated.ConnectorGroupID, id generated.ConnectorID, params generated.HeadGroupMemberParams) error {
	return h.GetGroupMember(c, group, id, generated.GetGroupMemberParams(params))
}

// HeadConnectors answers as ListConnectors, without the body.
func (h *handlers) HeadConnectors(c echo.Context, params generated.HeadConnectorsParams) error {
	return h.ListConnectors(c, generated.ListConnectorsParams(params))
}

// HeadConnector answers as GetConnector, without the body.
func (h *handlers) HeadConnector(c echo.Context, id generated.ConnectorID, params generated.HeadConnectorParams) error {
	return h.GetConnector(c, id, generated.GetConnectorParams(params))
}

// HeadConnectorMemberOf answers as ListConnectorMemberOf, without the body.
func (h *handlers) HeadConnectorMemberOf(c echo.Context, id generated.ConnectorID, params generated.HeadConnectorMemberOfParams) error {
	return h.ListConnectorMemberOf(c, id, generated.ListConnectorMemberOfParams(params))
}

// HeadApplicationConnectorGroup answers as GetApplicationConnectorGroup, without the body.
func (h *handlers) HeadApplicationConnectorGroup(c echo.Context, app generated.ApplicationsID, params generated.HeadApplicationConnectorGroupParams) error {
	return h.GetApplicationConnectorGroup(c, app, generated.GetApplicationConnectorGroupParams(params))
}

// HeadHealth answers as GetHealth, without the body.
func (h *handlers) HeadHealth(c echo.Context) error { return h.GetHealth(c) }

// HeadMetrics answers as GetMetrics, without the body.
func (h *handlers) HeadMetrics(c echo.Context) error { return h.GetMetrics(c) }

// HeadOpenAPIJSON answers as GetOpenAPIJSON, without the body.
func (h *handlers) HeadOpenAPIJSON(c echo.Context) error { return h.GetOpenAPIJSON(c) }

// HeadOpenAPIYAML answers as GetOpenAPIYAML, without the body.
func (h *handlers) HeadOpenAPIYAML(c echo.Context) error { return h.GetOpenAPIYAML(c) }

// HeadApplications answers as ListApplications, without the body.
func (a *adminHandlers) HeadApplications(c echo.Context, params admin.HeadApplicationsParams) error {
	return a.ListApplications(c, admin.ListApplicationsParams(params))
}

// HeadFaults answers as GetFaults, without the body.
func (a *adminHandlers) HeadFaults(c echo.Context, params admin.HeadFaultsParams) error {
	return a.GetFaults(c, admin.GetFaultsParams(params))
}

// HeadRequests answers as ListRequests, without the body.
func (a *adminHandlers) HeadRequests(c echo.Context, params admin.HeadRequestsParams) error {
	return a.ListRequests(c, admin.ListRequestsParams(params))
}
