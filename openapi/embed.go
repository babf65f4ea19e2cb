// Package openapi holds the hand-written OpenAPI document, the single source
// of truth of the API. The mock server serves it as written at /openapi.yaml;
// everything else reads it through the generated package.
package openapi

import _ "embed"

// YAML is openapi/connector.yaml as written, comments and order included.
//
//go:embed connector.yaml
var YAML []byte
