package main

import (
	"bytes"
	"testing"
)

// TestSafeOutput: what reaches stdout has no control or format character
// but newline and tab, written as \uXXXX, also when a character is split
// across two writes; everything else passes as it is.
func TestSafeOutput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []string
		want   string
	}{
		{"plain", []string{"id\tname\n", "été ✓\n"}, "id\tname\nété ✓\n"},
		{"C0 and DEL", []string{"a\x1b[2Jb\x7f\r\n"}, `a\u001b[2Jb\u007f\u000d` + "\n"},
		{"C1 and bidi", []string{"\u009b31m\u202eevil"}, `\u009b31m\u202eevil`},
		{"C1 split across writes", []string{"x\xc2", "\x9by"}, `x\u009by`},
		{"bidi split in three", []string{"\xe2", "\x80", "\xaeok"}, `\u202eok`},
		{"not UTF-8", []string{"a\xffb"}, `a\u00ffb`},
		{"cut at the end", []string{"a\xe2\x80"}, `a\u00e2\u0080`},
	} {
		var b bytes.Buffer
		out := &safeOutput{w: &b}
		for _, w := range tc.writes {
			if n, err := out.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("%s: Write = %d, %v", tc.name, n, err)
			}
		}
		out.flush()
		if b.String() != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, b.String(), tc.want)
		}
	}
}
