package server

import (
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/internal/reqcheck"
	"github.com/connector-group/members-api/server/faults"
	"github.com/connector-group/members-api/server/pages"
)

// The pages: the API reference (Swagger UI) at /docs, its files at
// /docs/assets/NAME, and the dashboard at /_admin/, all embedded.

// docsPolicy is the Content-Security-Policy of /docs, computed once.
var docsPolicy = pages.ContentSecurityPolicy(pages.Docs())

// GetDocs serves the API reference page.
func (h *handlers) GetDocs(c echo.Context) error {
	framingHeaders(c.Response().Header(), docsPolicy)
	return c.HTMLBlob(http.StatusOK, pages.Docs())
}

// framingHeaders keep a page from being framed by another (clickjacking: a
// transparent frame over a decoy, and one real click resets the mock) and
// from loading anything but its own: X-Frame-Options for older browsers,
// Content-Security-Policy with frame-ancestors 'none' for the rest.
func framingHeaders(h http.Header, policy string) {
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", policy)
}

// HeadDocs answers as GetDocs, without the body.
func (h *handlers) HeadDocs(c echo.Context) error { return h.GetDocs(c) }

// GetDocsAsset serves one of the files the reference page loads.
func (h *handlers) GetDocsAsset(c echo.Context, asset string) error {
	data, err := fs.ReadFile(pages.Assets(), asset)
	if errors.Is(err, fs.ErrNotExist) {
		return notFound(msgNotFoundRoute)
	}
	if err != nil {
		return err
	}
	contentType := mime.TypeByExtension(path.Ext(asset))
	if contentType == "" {
		contentType = "text/plain; charset=utf-8" // the licence texts
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, contentType, data)
}

// HeadDocsAsset answers as GetDocsAsset, without the body.
func (h *handlers) HeadDocsAsset(c echo.Context, asset string) error { return h.GetDocsAsset(c, asset) }

// GetDashboard serves the dashboard page, rendered at start-up.
func (a *adminHandlers) GetDashboard(c echo.Context) error {
	framingHeaders(c.Response().Header(), a.dashboardPolicy)
	return c.HTMLBlob(http.StatusOK, a.dashboard)
}

// dashboardPage renders the dashboard with the member operations of the
// spec and the fault statuses, so that it lists neither from a copy.
func dashboardPage(operations []reqcheck.Operation) ([]byte, error) {
	var data pages.DashboardData
	for _, op := range operations {
		if isService(op) {
			data.Operations = append(data.Operations, op.ID)
		}
	}
	data.FaultCodes = faults.Statuses()
	return pages.Dashboard(data)
}

// HeadDashboard answers as GetDashboard, without the body.
func (a *adminHandlers) HeadDashboard(c echo.Context) error { return a.GetDashboard(c) }
