//go:build tools

// Package tools pins the code generator in go.mod, so `make generate` runs the
// same oapi-codegen version on every machine without a separate install, the
// linter `make lint` runs, and oasdiff, which `make breaking` runs, so they
// need no install either.
package tools

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
	_ "github.com/oasdiff/oasdiff"
	_ "github.com/rakyll/hey"
	_ "honnef.co/go/tools/cmd/staticcheck"
)
