// Package pages holds the pages the mock serves, embedded in the binary:
// the API reference at /docs (Swagger UI, vendored from npm's swagger-ui-dist
// by `make update-swagger-ui`, with its licence) and the dashboard at
// /_admin/, and the index at / that points to both. Nothing they load comes from anywhere but the mock itself.
package pages

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
)

//go:embed docs.html dashboard.html index.html swaggerui
var files embed.FS

// Docs is the /docs page.
func Docs() []byte { return must(files.ReadFile("docs.html")) }

// DashboardData is what the dashboard lists from the generated code rather
// than from a copy: the operations its journal filter offers and the fault
// codes its form offers.
type DashboardData struct {
	Operations []string
	FaultCodes []int
}

// Dashboard renders the /_admin/ page (html/template), once, at start-up.
func Dashboard(data DashboardData) ([]byte, error) { return render("dashboard.html", data) }

// Index renders the / page (html/template) with data, once, at start-up.
func Index(data any) ([]byte, error) { return render("index.html", data) }

// render executes the embedded template name with data.
func render(name string, data any) ([]byte, error) {
	t, err := template.ParseFS(files, name)
	if err != nil {
		return nil, fmt.Errorf("the template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// Assets are the files /docs loads (/docs/assets/NAME): Swagger UI's.
func Assets() fs.FS {
	sub, err := fs.Sub(files, "swaggerui")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err) // the file is embedded above
	}
	return b
}
