// Command validatorgen writes the request validators of an OpenAPI 3.0
// document as plain Go: for each operation, code that checks its path, query
// and header parameters and decodes and checks its JSON body into the model
// type oapi-codegen generated for it, reporting every violation with its
// target. `make generate` runs it (see generated/validation/generate.go).
//
// It implements the schema keywords this API uses and the common ones a
// maintainer reaches for next: type, enum, required, properties,
// additionalProperties (false, true or absent), minLength, maxLength,
// pattern, minimum, maximum, exclusiveMinimum, exclusiveMaximum, formats
// uuid, ipv4, ipv6 and date-time, anyOf of string checks, nullable, nested
// objects, and arrays with items, minItems and maxItems. On any other keyword
// in a schema it must check, it fails, naming the keyword and where the
// schema is, so the spec and the validator cannot silently part.
//
// The Go field names and types come from the models file oapi-codegen wrote
// (read with go/parser), so the validator decodes into exactly those types.
package main

import (
	"bytes"
	"errors"
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
	out := flag.String("out", "", "the Go file to write")
	flag.Parse()
	if *specPath == "" || *modelsPath == "" || *modelsImport == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: validatorgen -spec FILE -models FILE -models-import PATH -out FILE [-package NAME]")
		os.Exit(2)
	}
	if err := run(*specPath, *modelsPath, *modelsImport, *pkg, *out); err != nil {
		fmt.Fprintln(os.Stderr, "validatorgen:", err)
		os.Exit(1)
	}
}

func run(specPath, modelsPath, modelsImport, pkg, out string) error {
	doc, err := loadSpec(specPath)
	if err != nil {
		return err
	}
	models, err := parseModels(modelsPath)
	if err != nil {
		return err
	}
	// The spec is named as the repository does (openapi/connector.yaml), not
	// by the relative path go generate happened to run with.
	specName := filepath.ToSlash(filepath.Join(filepath.Base(filepath.Dir(specPath)), filepath.Base(specPath)))
	g := newGenerator(doc, models, modelsImport, pkg, specName)
	src, err := g.generate()
	if err != nil {
		return err
	}
	formatted, err := format.Source(src)
	if err != nil {
		return fmt.Errorf("formatting the generated code (a generator bug): %w\n%s", err, numbered(src))
	}
	return os.WriteFile(out, formatted, 0o644)
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

// errs collects every problem, so one run names them all.
type errs []error

func (e *errs) add(err error) { *e = append(*e, err) }

func (e errs) join() error { return errors.Join(e...) }
