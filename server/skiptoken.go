package server

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/server/store"
)

// errBadSkipToken is returned for a $skiptoken this server did not issue for
// the listing asked about.
var errBadSkipToken = errors.New("not a $skiptoken this server issued for this application")

// skipTokenVersion leads every token, so a later format can tell old tokens
// apart (version 2, before this one, is refused as any unknown token is).
const skipTokenVersion = 3

// skipTokens makes and reads the opaque $skiptoken of a page: the position to
// resume after, sealed with AES-GCM under a random nonce, the listing (a
// group's members, the connectors, a connector's groups) as additional data.
// A token reads back only for the listing it was issued for, and to anybody else it is random bytes that say nothing, not
// even how many members were added anywhere before it.
type skipTokens struct {
	aead cipher.AEAD
}

// newSkipTokens uses key (16, 24 or 32 bytes), or a random key when nil.
func newSkipTokens(key []byte) (*skipTokens, error) {
	if key == nil {
		key = make([]byte, 16)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("making the $skiptoken key: %w", err)
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("the $skiptoken key: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("the $skiptoken key: %w", err)
	}
	return &skipTokens{aead: aead}, nil
}

// listing names what a token pages through: a group's members, the
// connectors, or the groups of a connector. Its kind and id are the token's
// additional data, so a token resumes only the listing it came from.
type listing struct {
	kind  byte
	id    uuid.UUID
	query [16]byte // the $filter and $orderby that narrowed and ordered it, digested; zero for none
}

func membersOf(group uuid.UUID) listing      { return listing{kind: 'm', id: group} }
func groupsOf(connector uuid.UUID) listing   { return listing{kind: 'g', id: connector} }
func applicationsOf(group uuid.UUID) listing { return listing{kind: 'a', id: group} }

var allConnectors = listing{kind: 'c'}

// additionalData is what a token of l is sealed with.
func (l listing) additionalData() [33]byte {
	ad := [33]byte{l.kind}
	copy(ad[1:], l.id[:])
	copy(ad[17:], l.query[:])
	return ad
}

// encode is the token that resumes listing l after position after.
func (t *skipTokens) encode(l listing, after store.Cursor) string {
	var plain [8]byte
	binary.BigEndian.PutUint64(plain[:], uint64(after))
	ad := l.additionalData()
	sealed := t.aead.Seal([]byte{skipTokenVersion}, nil, plain[:], ad[:])
	return base64.RawURLEncoding.EncodeToString(sealed)
}

// decode reverses encode for l; anything else is errBadSkipToken.
func (t *skipTokens) decode(l listing, s string) (store.Cursor, error) {
	const size = 1 + 8 + 28 // version, position, nonce and tag
	if base64.RawURLEncoding.EncodedLen(size) != len(s) {
		return 0, errBadSkipToken
	}
	var raw [size]byte
	n, err := base64.RawURLEncoding.Strict().Decode(raw[:], []byte(s))
	if err != nil || n != size || raw[0] != skipTokenVersion {
		return 0, errBadSkipToken
	}
	ad := l.additionalData()
	plain, err := t.aead.Open(nil, nil, raw[1:], ad[:])
	if err != nil || len(plain) != 8 {
		return 0, errBadSkipToken
	}
	return store.Cursor(binary.BigEndian.Uint64(plain)), nil
}
