package version

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReleaseIsInTheChangelog: the release a binary names has its entry in
// CHANGELOG.md, so a user can look up what it brought.
func TestReleaseIsInTheChangelog(t *testing.T) {
	changelog, err := os.ReadFile("../../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^## ` + regexp.QuoteMeta(Release) + `\b`).Match(changelog) {
		t.Errorf("CHANGELOG.md has no \"## %s\" entry", Release)
	}
	if s := String("connector-mock"); !strings.HasPrefix(s, "connector-mock "+Release+" (") {
		t.Errorf("String = %q", s)
	}
}
