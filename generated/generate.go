// Package generated holds the code oapi-codegen writes from openapi/connector.yaml:
// the models, the Echo server interface, the typed client and the embedded spec.
// Never edit connector.gen.go by hand; change the spec and run `make generate`.
package generated

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen --config=config.yaml ../openapi/connector.yaml
