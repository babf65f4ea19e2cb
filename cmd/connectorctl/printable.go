package main

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// printable is text from a server as the terminal may show it: every control
// character (C0, DEL, C1: ESC starts the sequences that retitle a window,
// move the cursor or write the clipboard), every invisible format character
// (the bidirectional overrides) and every byte that is no UTF-8 is written
// as an escape, \x1b or \u202e, so nothing a server sends acts on the
// terminal. Everything else is kept as it is.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x100 && (unicode.IsControl(r)):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// redacted is a server URL as a message may show it: a password in it is
// replaced by xxxxx.
func redacted(server string) string {
	u, err := url.Parse(server)
	if err != nil || u.User == nil {
		return server
	}
	return u.Redacted()
}

// safeOutput is stdout as every command writes it: the last guard behind
// printable, for what no column escapes, JSON above all (encoding/json
// escapes C0 controls but passes DEL, C1 controls such as U+009B, a CSI on
// some terminals, and the bidirectional overrides). Each such character
// becomes \uXXXX: in JSON, where it can only be inside a string, the same
// string; in a table, a visible escape. Newlines and tabs, the output's own
// layout, pass. A character split across two writes is held until it is whole.
type safeOutput struct {
	w     io.Writer
	carry []byte // the start of a character the last write ended in
	buf   []byte
}

func (s *safeOutput) Write(p []byte) (int, error) {
	n := len(p)
	if len(s.carry) > 0 {
		p = append(s.carry, p...)
		s.carry = nil
	}
	out := s.buf[:0]
	for i := 0; i < len(p); {
		if !utf8.FullRune(p[i:]) {
			s.carry = append([]byte(nil), p[i:]...)
			break
		}
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r == '\n' || r == '\t':
			out = append(out, byte(r))
		case r == utf8.RuneError && size == 1:
			out = fmt.Appendf(out, `\u%04x`, p[i])
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, p[i:i+size]...)
		}
		i += size
	}
	s.buf = out
	if _, err := s.w.Write(out); err != nil {
		return 0, err
	}
	return n, nil
}

// flush writes the start of a character the output ended in, escaped.
func (s *safeOutput) flush() {
	for _, b := range s.carry {
		fmt.Fprintf(s.w, `\u%04x`, b)
	}
	s.carry = nil
}
