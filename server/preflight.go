package server

import (
	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
)

// The CORS preflight of each path of the API (cors.go), one method per path
// because the generated server interface names one per operation.

// PreflightGetApplicationConnectorGroup answers the preflight of its path.
func (h *handlers) PreflightGetApplicationConnectorGroup(c echo.Context, _ generated.ApplicationsID, _ generated.PreflightGetApplicationConnectorGroupParams) error {
	return h.preflight(c)
}

// PreflightAssignApplicationConnectorGroup answers the preflight of its path.
func (h *handlers) PreflightAssignApplicationConnectorGroup(c echo.Context, _ generated.ApplicationsID, _ generated.PreflightAssignApplicationConnectorGroupParams) error {
	return h.preflight(c)
}

// PreflightListConnectorGroupMembers answers the preflight of its path.
func (h *handlers) PreflightListConnectorGroupMembers(c echo.Context, _ generated.ApplicationsID, _ generated.PreflightListConnectorGroupMembersParams) error {
	return h.preflight(c)
}

// PreflightCountConnectorGroupMembers answers the preflight of its path.
func (h *handlers) PreflightCountConnectorGroupMembers(c echo.Context, _ generated.ApplicationsID, _ generated.PreflightCountConnectorGroupMembersParams) error {
	return h.preflight(c)
}

// PreflightAddConnectorGroupMember answers the preflight of its path.
func (h *handlers) PreflightAddConnectorGroupMember(c echo.Context, _ generated.ApplicationsID, _ generated.PreflightAddConnectorGroupMemberParams) error {
	return h.preflight(c)
}

// PreflightGetConnectorGroupMember answers the preflight of its path.
func (h *handlers) PreflightGetConnectorGroupMember(c echo.Context, _ generated.ApplicationsID, _ generated.ConnectorID, _ generated.PreflightGetConnectorGroupMemberParams) error {
	return h.preflight(c)
}

// PreflightRemoveConnectorGroupMember answers the preflight of its path.
func (h *handlers) PreflightRemoveConnectorGroupMember(c echo.Context, _ generated.ApplicationsID, _ generated.ConnectorID, _ generated.PreflightRemoveConnectorGroupMemberParams) error {
	return h.preflight(c)
}

// PreflightGetApplicationProxyProfile answers the preflight of its path.
func (h *handlers) PreflightGetApplicationProxyProfile(c echo.Context, _ generated.PreflightGetApplicationProxyProfileParams) error {
	return h.preflight(c)
}

// PreflightListConnectorGroups answers the preflight of its path.
func (h *handlers) PreflightListConnectorGroups(c echo.Context, _ generated.PreflightListConnectorGroupsParams) error {
	return h.preflight(c)
}

// PreflightCountConnectorGroups answers the preflight of its path.
func (h *handlers) PreflightCountConnectorGroups(c echo.Context, _ generated.PreflightCountConnectorGroupsParams) error {
	return h.preflight(c)
}

// PreflightGetConnectorGroup answers the preflight of its path.
func (h *handlers) PreflightGetConnectorGroup(c echo.Context, _ generated.ConnectorGroupID, _ generated.PreflightGetConnectorGroupParams) error {
	return h.preflight(c)
}

// PreflightListGroupApplications answers the preflight of its path.
func (h *handlers) PreflightListGroupApplications(c echo.Context, _ generated.ConnectorGroupID, _ generated.PreflightListGroupApplicationsParams) error {
	return h.preflight(c)
}

// PreflightCountGroupApplications answers the preflight of its path.
func (h *handlers) PreflightCountGroupApplications(c echo.Context, _ generated.ConnectorGroupID, _ generated.PreflightCountGroupApplicationsParams) error {
	return h.preflight(c)
}

// PreflightListGroupMembers answers the preflight of its path.
func (h *handlers) PreflightListGroupMembers(c echo.Context, _ generated.ConnectorGroupID, _ generated.PreflightListGroupMembersParams) error {
	return h.preflight(c)
}

// PreflightCountGroupMembers answers the preflight of its path.
func (h *handlers) PreflightCountGroupMembers(c echo.Context, _ generated.ConnectorGroupID, _ generated.PreflightCountGroupMembersParams) error {
	return h.preflight(c)
}

// PreflightAddGroupMember answers the preflight of its path.
func (h *handlers) PreflightAddGroupMember(c echo.Context, _ generated.ConnectorGroupID, _ generated.PreflightAddGroupMemberParams) error {
	return h.preflight(c)
}

// PreflightGetGroupMember answers the preflight of its path.
func (h *handlers) PreflightGetGroupMember(c echo.Context, _ generated.ConnectorGroupID, _ generated.ConnectorID, _ generated.PreflightGetGroupMemberParams) error {
	return h.preflight(c)
}

// PreflightRemoveGroupMember answers the preflight of its path.
func (h *handlers) PreflightRemoveGroupMember(c echo.Context, _ generated.ConnectorGroupID, _ generated.ConnectorID, _ generated.PreflightRemoveGroupMemberParams) error {
	return h.preflight(c)
}

// PreflightListConnectors answers the preflight of its path.
func (h *handlers) PreflightListConnectors(c echo.Context, _ generated.PreflightListConnectorsParams) error {
	return h.preflight(c)
}

// PreflightCountConnectors answers the preflight of its path.
func (h *handlers) PreflightCountConnectors(c echo.Context, _ generated.PreflightCountConnectorsParams) error {
	return h.preflight(c)
}

// PreflightGetConnector answers the preflight of its path.
func (h *handlers) PreflightGetConnector(c echo.Context, _ generated.ConnectorID, _ generated.PreflightGetConnectorParams) error {
	return h.preflight(c)
}

// PreflightListConnectorMemberOf answers the preflight of its path.
func (h *handlers) PreflightListConnectorMemberOf(c echo.Context, _ generated.ConnectorID, _ generated.PreflightListConnectorMemberOfParams) error {
	return h.preflight(c)
}

// PreflightCountConnectorMemberOf answers the preflight of its path.
func (h *handlers) PreflightCountConnectorMemberOf(c echo.Context, _ generated.ConnectorID, _ generated.PreflightCountConnectorMemberOfParams) error {
	return h.preflight(c)
}
