// Package admin holds the models and the typed client of the mock's admin
// API, which oapi-codegen writes from openapi/admin.yaml (bundled first with
// the parts of connector.yaml it uses, into admin.bundled.yaml). It imports
// neither Echo nor kin-openapi. Never edit the generated files by hand.
package admin

//go:generate go run ../../internal/bundle -in ../../openapi/admin.yaml -out admin.bundled.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen --config=config.yaml admin.bundled.yaml
