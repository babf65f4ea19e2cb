package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
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

// index is what / answers: the page, and the same links as JSON.
type index struct {
	links generated.Index
	page  []byte
}

// indexPage finds the links of / in the spec, by the operations that serve
// them, and renders the page with the spec's title and version.
func indexPage(operations []reqcheck.Operation, specJSON []byte) (index, error) {
	paths := map[string]string{}
	for _, op := range operations {
		paths[op.ID] = op.Path
	}
	var in index
	for id, link := range map[string]*string{"getDocs": &in.links.Docs, "getDashboard": &in.links.Dashboard,
		"getOpenAPIYAML": &in.links.OpenapiYaml, "getOpenAPIJSON": &in.links.OpenapiJSON,
		"getHealth": &in.links.Health, "getMetrics": &in.links.Metrics} {
		if *link = paths[id]; *link == "" {
			return index{}, fmt.Errorf("the spec has no %s operation for the index page", id)
		}
	}
	var spec struct {
		Info struct{ Title, Version string }
	}
	if err := json.Unmarshal(specJSON, &spec); err != nil {
		return index{}, fmt.Errorf("reading the spec's title: %w", err)
	}
	page, err := pages.Index(struct {
		Title, Version string
		Links          generated.Index
	}{spec.Info.Title, spec.Info.Version, in.links})
	in.page = page
	return in, err
}

// indexPolicy is the Content-Security-Policy of / (no script at all).
var indexPolicy = pages.ContentSecurityPolicy(nil)

// GetIndex answers / with the page, or with its links as JSON when the
// request's Accept prefers application/json to text/html.
func (h *handlers) GetIndex(c echo.Context) error {
	c.Response().Header().Set("Vary", "Accept")
	if prefersJSON(c.Request().Header.Values("Accept")) {
		return c.JSON(http.StatusOK, h.index.links)
	}
	framingHeaders(c.Response().Header(), indexPolicy)
	return c.HTMLBlob(http.StatusOK, h.index.page)
}

// HeadIndex answers as GetIndex, without the body.
func (h *handlers) HeadIndex(c echo.Context) error { return h.GetIndex(c) }

// prefersJSON reports whether Accept values weigh application/json (or
// application/*) above text/html (or text/*, */*), by their q parameters
// (RFC 9110, 12.5.1). A tie, or no Accept, is the page: what a browser and a
// bare curl get. One pass over the values, whatever their length.
func prefersJSON(accept []string) bool {
	jsonQ, htmlQ := -1.0, -1.0
	for _, value := range accept {
		for item := range strings.SplitSeq(value, ",") {
			mediaType, params, _ := strings.Cut(item, ";")
			q := 1.0
			for param := range strings.SplitSeq(params, ";") {
				name, v, ok := strings.Cut(strings.TrimSpace(param), "=")
				if ok && strings.EqualFold(name, "q") {
					if parsed, err := strconv.ParseFloat(v, 64); err == nil && parsed >= 0 && parsed <= 1 {
						q = parsed
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(mediaType)) {
			case "application/json", "application/*":
				jsonQ = max(jsonQ, q)
			case "text/html", "text/*", "*/*":
				htmlQ = max(htmlQ, q)
			}
		}
	}
	return jsonQ > 0 && jsonQ > htmlQ
}

// RedirectDocs sends /docs/ to /docs.
func (h *handlers) RedirectDocs(c echo.Context) error {
	return c.Redirect(http.StatusPermanentRedirect, h.index.links.Docs)
}

// HeadRedirectDocs answers as RedirectDocs.
func (h *handlers) HeadRedirectDocs(c echo.Context) error { return h.RedirectDocs(c) }

// RedirectDashboard sends /_admin to /_admin/.
func (a *adminHandlers) RedirectDashboard(c echo.Context) error {
	return c.Redirect(http.StatusPermanentRedirect, a.dashboardPath)
}

// HeadRedirectDashboard answers as RedirectDashboard.
func (a *adminHandlers) HeadRedirectDashboard(c echo.Context) error { return a.RedirectDashboard(c) }
