// Command baseline is the yardstick of `make bench`: a bare Echo server on the
// same route as the mock's POST, that only decodes the JSON body into the
// generated struct and answers 204. No validation, no store, no logging.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
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
		return c.NoContent(http.StatusNoContent)
	})
	log.Fatal(http.ListenAndServe(*addr, e))
}
