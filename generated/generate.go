// Package generated holds the models and the typed client that oapi-codegen
// writes from openapi/connector.yaml. It imports neither Echo nor kin-openapi,
// so a program that only calls the API pulls in neither.
//
// Everything under generated/ is written by `make generate` (go generate
// ./generated/...) and never edited by hand:
//   - connector.gen.go: the models and the client (this package);
//   - echoapi/server.gen.go: the Echo server interface and the embedded spec;
//   - validation/validation.gen.go: the request validators, plain Go written
//     by internal/validatorgen from the same spec.
package generated

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen --config=config.yaml ../openapi/connector.yaml
