package server_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/faults"
)

// TestSettingsGrammarIsTheSpecs holds admin.yaml's patterns for the fault
// settings and the parsers the flags and the admin API share together: a
// string the parser reads matches the spec's pattern, and a string the
// pattern refuses is a 400 at that property, from the generated validator,
// before any parser runs. (A string may match the pattern and still be
// refused by the parser for what a grammar cannot say: a range whose bounds
// are the wrong way round, a window of 0s.)
func TestSettingsGrammarIsTheSpecs(t *testing.T) {
	spec := specChecker(t).AdminSpec().Components.Schemas["faultSettings"].Value
	inputs := []string{
		"", "0", "200ms", "1.5s", ".5s", "5.s", "1h2m3.5s", "300µs", "300μs", "3us", "7ns", "2m", "2h",
		"50ms-300ms", "300ms-50ms", "0s-1s", "0-1s", "1s-", "-1s", "+1s", " 1s", "1s ", "1 s", "1", "s", ".s", "1e3s",
		"1d", "1S", "1s-2s-3s", "120/60s", "1/1ns", "0/60s", "0120/60s", "+1/1s", "1/0s", "1/-1s", "1/", "/60s",
		"1234567890/1s", "123456789/1s", "120/60", "120 /60s", "lots", "fast", "١s",
	}
	h := newHarness(t, server.Config{})
	for _, setting := range []struct {
		name  string
		parse func(string) error
	}{
		{"latency", func(s string) error { _, err := faults.ParseLatency(s); return err }},
		{"rateLimit", func(s string) error { _, err := faults.ParseRateLimit(s); return err }},
		{"retryAfter", func(s string) error {
			if s == "" || s == "0" {
				return nil
			}
			_, err := faults.ParseDuration(s)
			return err
		}},
	} {
		pattern := regexp.MustCompile(spec.Properties[setting.name].Value.Pattern)
		for _, in := range inputs {
			parsed, matched := setting.parse(in) == nil, pattern.MatchString(in)
			if parsed && !matched {
				t.Errorf("%s %q: the parser reads it, the spec's pattern refuses it", setting.name, in)
			}
			if matched {
				continue
			}
			body, _ := json.Marshal(map[string]string{setting.name: in})
			res := h.do(http.MethodPut, "/_admin/faults", jsonHeader(), strings.NewReader(string(body)))
			if got := targets(decodeError(t, res.body)); res.status != http.StatusBadRequest || !slices.Contains(got, "/"+setting.name) {
				t.Errorf("%s %q, refused by the pattern: PUT answered %d %s", setting.name, in, res.status, res.body)
			}
		}
	}
}
