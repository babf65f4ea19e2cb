package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestClientImportsNoServer: a program that only calls the API pulls in
// neither Echo nor kin-openapi, nor the request validators and their JSON
// decoder: the enum values and parameter bounds it needs are in
// generated/values.gen.go (README, Layout).
func TestClientImportsNoServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "labstack/echo") || strings.Contains(dep, "getkin/kin-openapi") ||
			strings.Contains(dep, "internal/reqcheck") || strings.Contains(dep, "go-json-experiment") ||
			strings.Contains(dep, "generated/validation") {
			t.Errorf("the client imports %s", dep)
		}
	}
}
