package server

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// errBadSkipToken is returned for a $skiptoken this server did not issue for
// the application asked about.
var errBadSkipToken = errors.New("not a $skiptoken this server issued for this application")

// skipTokenVersion leads every token, so a later format can tell old tokens apart.
const skipTokenVersion = 2

// skipTokens makes and reads the opaque $skiptoken of a page. A token is one
// AES block: the position to resume after and eight zero bytes, masked with
// the application's id encrypted under the same key, then encrypted. It
// reads back only for the application it was issued for (the whole id counts;
// a forged or transplanted token leaves the zero bytes wrong but for a 2^-64
// chance), and to anybody else it is random bytes that say nothing, not even
// how many members were added anywhere before it.
type skipTokens struct {
	block cipher.Block
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
	return &skipTokens{block: block}, nil
}

// encode is the token that resumes the listing of app after position after.
func (t *skipTokens) encode(app uuid.UUID, after Cursor) string {
	var plain, sealed [aes.BlockSize]byte
	binary.BigEndian.PutUint64(plain[:8], uint64(after))
	t.mask(&plain, app)
	t.block.Encrypt(sealed[:], plain[:])
	out := make([]byte, 1+aes.BlockSize)
	out[0] = skipTokenVersion
	copy(out[1:], sealed[:])
	return base64.RawURLEncoding.EncodeToString(out)
}

// decode reverses encode for app; anything else is errBadSkipToken.
func (t *skipTokens) decode(app uuid.UUID, s string) (Cursor, error) {
	var raw [1 + aes.BlockSize]byte
	if base64.RawURLEncoding.EncodedLen(len(raw)) != len(s) {
		return 0, errBadSkipToken
	}
	n, err := base64.RawURLEncoding.Strict().Decode(raw[:], []byte(s))
	if err != nil || n != len(raw) || raw[0] != skipTokenVersion {
		return 0, errBadSkipToken
	}
	var plain [aes.BlockSize]byte
	t.block.Decrypt(plain[:], raw[1:])
	t.mask(&plain, app)
	var zero [8]byte
	if subtle.ConstantTimeCompare(plain[8:], zero[:]) != 1 {
		return 0, errBadSkipToken
	}
	return Cursor(binary.BigEndian.Uint64(plain[:8])), nil
}

// mask XORs block with app's id encrypted under the key: what binds a token
// to its application.
func (t *skipTokens) mask(block *[aes.BlockSize]byte, app uuid.UUID) {
	var tweak [aes.BlockSize]byte
	t.block.Encrypt(tweak[:], app[:])
	subtle.XORBytes(block[:], block[:], tweak[:])
}
