// Package echoapi holds the server side that oapi-codegen writes from
// openapi/connector.yaml: the Echo server interface, the generated wrappers
// that bind parameters, RegisterHandlersWithOptions, and the embedded spec.
// Never edit server.gen.go by hand; change the spec and run `make generate`.
package echoapi

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen --config=config.yaml ../../openapi/connector.yaml
