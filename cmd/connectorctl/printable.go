package main

import (
	"fmt"
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
