package server

import (
	"testing"
)

func FuzzSkipToken(f *testing.F) {
	for _, seed := range []string{"", "AQAAAAAAAAAB", encodeSkipToken(0), encodeSkipToken(1<<63 + 5), "abc", "AQAAAAAAAAAB=", "AgAAAAAAAAAB", "AQAAAAAAAAA-", "%%%"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := decodeSkipToken(token)
		if err != nil {
			return
		}
		// A token it accepts is one it could have issued: exactly one spelling per cursor.
		if again := encodeSkipToken(c); again != token {
			t.Fatalf("decoded %q to %d, which encodes as %q", token, c, again)
		}
	})
}

func TestSkipTokenRoundTrip(t *testing.T) {
	for _, c := range []Cursor{0, 1, 42, 1<<32 + 7, 1<<64 - 1} {
		got, err := decodeSkipToken(encodeSkipToken(c))
		if err != nil || got != c {
			t.Errorf("round trip of %d: %d, %v", c, got, err)
		}
	}
}
