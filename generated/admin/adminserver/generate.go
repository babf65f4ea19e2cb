// Package adminserver holds the admin API's Echo server interface and
// embedded spec, which oapi-codegen writes from the bundled admin document.
// Never edit server.gen.go by hand.
package adminserver

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen --config=config.yaml ../admin.bundled.yaml
