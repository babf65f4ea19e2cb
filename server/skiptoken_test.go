package server

import (
	"github.com/connector-group/members-api/server/store"
	"testing"

	"github.com/google/uuid"
)

var (
	tokenApp   = uuid.MustParse("0f8fad5b-d9cb-469f-a165-70867728950e")
	tokenOther = uuid.MustParse("0f8fad5b-d9cb-469f-a165-70867728950f")
)

func testTokens(t testing.TB) *skipTokens {
	t.Helper()
	tokens, err := newSkipTokens([]byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

func FuzzSkipToken(f *testing.F) {
	tokens := testTokens(f)
	for _, seed := range []string{"", "AQAAAAAAAAAB", tokens.encode(membersOf(tokenApp), 0), tokens.encode(membersOf(tokenApp), 1<<63+5),
		tokens.encode(membersOf(tokenOther), 7), "abc", "AQAAAAAAAAAB=", "%%%"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := tokens.decode(membersOf(tokenApp), token)
		if err != nil {
			return
		}
		// A token it accepts is one it issued for this application: sealed
		// with its id as additional data, so no other application reads it.
		if _, err := tokens.decode(membersOf(tokenOther), token); err == nil {
			t.Fatalf("%q (position %d) reads for two applications", token, c)
		}
		if again, err := tokens.decode(membersOf(tokenApp), tokens.encode(membersOf(tokenApp), c)); err != nil || again != c {
			t.Fatalf("position %d does not round-trip: %d, %v", c, again, err)
		}
	})
}

func TestSkipTokenRoundTrip(t *testing.T) {
	tokens := testTokens(t)
	for _, c := range []store.Cursor{0, 1, 42, 1<<32 + 7, 1<<64 - 1} {
		token := tokens.encode(membersOf(tokenApp), c)
		if got, err := tokens.decode(membersOf(tokenApp), token); err != nil || got != c {
			t.Errorf("round trip of %d: %d, %v", c, got, err)
		}
		if _, err := tokens.decode(membersOf(tokenOther), token); err == nil {
			t.Errorf("a token for %s was accepted for %s", tokenApp, tokenOther)
		}
		// Nor does a token resume another kind of listing with the same id.
		for _, other := range []listing{groupsOf(tokenApp), allConnectors} {
			if _, err := tokens.decode(other, token); err == nil {
				t.Errorf("a token for the members of %s was accepted for %+v", tokenApp, other)
			}
		}
	}
}

// TestSkipTokenRevealsNothing: consecutive positions (and the same one twice,
// each token under a nonce of its own) give unrelated tokens,
// so a token says nothing of how many members were added before it, here or
// in any other application; and another key's tokens are refused.
func TestSkipTokenRevealsNothing(t *testing.T) {
	tokens := testTokens(t)
	a := tokens.encode(membersOf(tokenApp), 1000)
	for _, b := range []string{tokens.encode(membersOf(tokenApp), 1001), tokens.encode(membersOf(tokenApp), 1000)} {
		same := 0
		for i := 1; i < len(a); i++ { // after the version character
			if a[i] == b[i] {
				same++
			}
		}
		if same > 8 {
			t.Errorf("two tokens share %d of %d characters: %s, %s", same, len(a)-1, a, b)
		}
	}
	other, err := newSkipTokens([]byte("fedcba9876543210"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.decode(membersOf(tokenApp), a); err == nil {
		t.Error("a token made with another key was accepted")
	}
}
