// Command validatorgen writes the request validators of an OpenAPI 3.0
// document as plain Go: for each operation, code that checks its path, query
// and header parameters and decodes and checks its JSON body into the model
// type oapi-codegen generated for it, reporting every violation with its
// target. `make generate` runs it (see generated/validation/generate.go).
//
// It implements the schema keywords this API uses and the common ones a
// maintainer reaches for next: type, enum, required, properties,
// additionalProperties (false, true or absent), minLength, maxLength,
// pattern, minimum, maximum, exclusiveMinimum, exclusiveMaximum, readOnly
// (a property a request may not set: refused, naming it), formats
// uuid, ipv4, ipv6 and date-time, anyOf of string checks, nullable, nested
// objects, arrays with items, minItems and maxItems, maps (additionalProperties
// with a schema) with minProperties and maxProperties, and a request body that
// is oneOf several component objects. On any other keyword
// in a schema it must check, it fails, naming the keyword and where the
// schema is, so the spec and the validator cannot silently part.
//
// The Go field names and types come from the models file oapi-codegen wrote
// (read with go/parser), so the validator decodes into exactly those types.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	specPath := flag.String("spec", "", "the OpenAPI document")
	modelsPath := flag.String("models", "", "the Go file oapi-codegen wrote the models into")
	modelsImport := flag.String("models-import", "", "the import path of the models package")
	pkg := flag.String("package", "validation", "the package name of the output")
	out := flag.String("out", "", "the Go file to write the validators into")
	valuesOut := flag.String("values-out", "", "the Go file, beside the models, to write the enum values and parameter bounds into")
	serverPath := flag.String("server", "", "the Go file oapi-codegen wrote the Echo server interface into")
	serverImport := flag.String("server-import", "", "the import path of the server package")
	flag.Parse()
	if *specPath == "" || *modelsPath == "" || *modelsImport == "" || *out == "" || *valuesOut == "" || *serverPath == "" || *serverImport == "" {
		fmt.Fprintln(os.Stderr, "usage: validatorgen -spec FILE -models FILE -models-import PATH -server FILE -server-import PATH -out FILE -values-out FILE [-package NAME]")
		os.Exit(2)
	}
	if err := run(*specPath, *modelsPath, *modelsImport, *serverPath, *serverImport, *pkg, *out, *valuesOut); err != nil {
		fmt.Fprintln(os.Stderr, "validatorgen:", err)
		os.Exit(1)
	}
}

func run(specPath, modelsPath, modelsImport, serverPath, serverImport, pkg, out, valuesOut string) error {
	doc, err := loadSpec(specPath)
	if err != nil {
		return err
	}
	models, err := parseModels(modelsPath, nil)
	if err != nil {
		return err
	}
	server, err := parseServer(serverPath, serverImport, nil)
	if err != nil {
		return err
	}
	// The spec is named as the repository does (openapi/connector.yaml,
	// generated/admin/admin.bundled.yaml), not by the relative path go
	// generate happened to run with.
	specName, err := moduleRelative(specPath)
	if err != nil {
		return err
	}
	generated, err := generate(doc, models, modelsImport, server, pkg, specName)
	if err != nil {
		return err
	}
	for path, src := range map[string][]byte{out: generated.validation, valuesOut: generated.values} {
		formatted, err := format.Source(src)
		if err != nil {
			return fmt.Errorf("formatting %s (a generator bug): %w\n%s", path, err, numbered(src))
		}
		if err := os.WriteFile(path, formatted, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// numbered is src with line numbers, to find what format.Source complains about.
func numbered(src []byte) string {
	var b strings.Builder
	for i, line := range bytes.Split(src, []byte("\n")) {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, line)
	}
	return b.String()
}

// unsupportedError names a keyword the generator does not implement and the
// schema that uses it.
type unsupportedError struct {
	where   string
	keyword string
	detail  string
}

func (e *unsupportedError) Error() string {
	msg := fmt.Sprintf("%s: keyword %q is not implemented by the validator generator", e.where, e.keyword)
	if e.detail != "" {
		msg += " (" + e.detail + ")"
	}
	return msg
}

// moduleRelative is path relative to the root of the module it is in (the
// nearest directory above it with a go.mod), with forward slashes.
func moduleRelative(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, abs)
			return filepath.ToSlash(rel), err
		}
		if filepath.Dir(dir) == dir {
			return filepath.ToSlash(filepath.Base(abs)), nil
		}
	}
}
