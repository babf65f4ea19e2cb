// Package validation checks requests against openapi/connector.yaml: one
// function per operation, plain Go written by internal/validatorgen, that
// checks the parameters and headers and decodes and checks the body into the
// generated model, listing every violation with its target.
// Never edit validation.gen.go by hand; change the spec and run `make generate`.
package validation

//go:generate go run ../../internal/validatorgen -spec ../../openapi/connector.yaml -models ../connector.gen.go -models-import github.com/connector-group/members-api/generated -server ../echoapi/server.gen.go -server-import github.com/connector-group/members-api/generated/echoapi -package validation -out validation.gen.go -values-out ../values.gen.go
