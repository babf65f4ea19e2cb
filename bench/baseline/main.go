// Command baseline is the yardstick of `make bench`: a bare Echo server on the
// same route as the mock's POST that does only what any server of this API
// must: it decodes the JSON body into the generated struct and answers 204
// with the four headers the contract requires (Location, OData-EntityId,
// Vary, and request-id with a new GUID), served by an http.Server with the
// mock's default timeouts. No validation, no store, no logging: the ratio of
// the two is the cost of the mock's own work.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/internal/httplimits"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "`address` to listen on")
	flag.Parse()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/applications/:applicationsId/connectorGroup/members/$ref", func(c echo.Context) error {
		var in generated.Connector
		if err := json.NewDecoder(c.Request().Body).Decode(&in); err != nil {
			return c.NoContent(http.StatusBadRequest)
		}
		location := "http://" + c.Request().Host + "/applications/" + c.Param("applicationsId") + "/connectorGroup/members/" + uuid.NewString()
		h := c.Response().Header()
		h.Set("Location", location)
		h.Set("OData-EntityId", location)
		h.Set("Vary", "Prefer")
		h.Set("request-id", uuid.NewString())
		return c.NoContent(http.StatusNoContent)
	})
	srv := &http.Server{
		Addr:              *addr,
		Handler:           e,
		ReadHeaderTimeout: httplimits.DefaultReadHeaderTimeout,
		ReadTimeout:       httplimits.DefaultReadTimeout,
		WriteTimeout:      httplimits.DefaultWriteTimeout,
		IdleTimeout:       httplimits.DefaultIdleTimeout,
		MaxHeaderBytes:    httplimits.DefaultMaxHeaderBytes,
	}
	log.Fatal(srv.ListenAndServe())
}
