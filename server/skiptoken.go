package server

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// errBadSkipToken is returned for a $skiptoken this server did not issue.
var errBadSkipToken = errors.New("not a $skiptoken this server issued")

// skipTokenVersion leads every token, so a later format can tell old tokens apart.
const skipTokenVersion = 1

// encodeSkipToken makes the opaque $skiptoken that resumes after c.
func encodeSkipToken(c Cursor) string {
	var b [9]byte
	b[0] = skipTokenVersion
	binary.BigEndian.PutUint64(b[1:], uint64(c))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// decodeSkipToken reverses encodeSkipToken; anything else is errBadSkipToken.
func decodeSkipToken(s string) (Cursor, error) {
	var b [9]byte
	if base64.RawURLEncoding.EncodedLen(len(b)) != len(s) {
		return 0, errBadSkipToken
	}
	n, err := base64.RawURLEncoding.Strict().Decode(b[:], []byte(s))
	if err != nil || n != len(b) || b[0] != skipTokenVersion {
		return 0, errBadSkipToken
	}
	return Cursor(binary.BigEndian.Uint64(b[1:])), nil
}
