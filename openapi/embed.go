// Package openapi holds the hand-written OpenAPI document, the single source
// of truth of the API. The mock server serves it as written at /openapi.yaml
// and as JSON at /openapi.json; everything else reads it through the
// generated package.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"go.yaml.in/yaml/v3"
)

// YAML is openapi/connector.yaml as written, comments and order included.
//
//go:embed connector.yaml
var YAML []byte

// JSON is the same document as JSON (aliases resolved, members sorted by
// name), made once per process: what /openapi.json serves. (oapi-codegen's
// embedded copy capitalises the operationIds; this is the document itself.)
var JSON = sync.OnceValues(func() ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(YAML, &doc); err != nil {
		return nil, fmt.Errorf("reading openapi/connector.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi/connector.yaml as JSON: %w", err)
	}
	return b, nil
})
