// Package pages holds the two pages the mock serves, embedded in the binary:
// the API reference at /docs (Swagger UI, vendored from npm's swagger-ui-dist
// by `make update-swagger-ui`, with its licence) and the dashboard at
// /_admin/. Nothing they load comes from anywhere but the mock itself.
package pages

import (
	"embed"
	"io/fs"
)

//go:embed docs.html dashboard.html swaggerui
var files embed.FS

// Docs is the /docs page.
func Docs() []byte { return must(files.ReadFile("docs.html")) }

// Dashboard is the /_admin/ page.
func Dashboard() []byte { return must(files.ReadFile("dashboard.html")) }

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
