package server

import (
	"encoding/json"
	"fmt"

	"github.com/labstack/echo/v4"
)

// jsonSerializer is Echo's default serializer without HTML escaping, so that a
// URL such as @odata.nextLink reads `&$skiptoken=`, not `\u0026$skiptoken=`.
type jsonSerializer struct{}

// Serialize implements echo.JSONSerializer.
func (jsonSerializer) Serialize(c echo.Context, i any, indent string) error {
	enc := json.NewEncoder(c.Response())
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc.Encode(i)
}

// Deserialize implements echo.JSONSerializer; the handlers decode bodies
// themselves, so this only serves Echo's own Bind.
func (jsonSerializer) Deserialize(c echo.Context, i any) error {
	if err := json.NewDecoder(c.Request().Body).Decode(i); err != nil {
		return fmt.Errorf("decoding the request body: %w", err)
	}
	return nil
}
