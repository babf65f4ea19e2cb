package reqcheck

import (
	"encoding/hex"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The string formats the generator implements. Each is what this API means by
// the format; tests hold kin-openapi, the reference, to the same definitions.

// GUIDText writes id in its canonical form (8-4-4-4-12 lowercase hex), as
// uuid.UUID.String does, into buf, without allocating: for the places that
// write a GUID per connector (a restart's million) or per request.
func GUIDText(buf *[36]byte, id uuid.UUID) []byte {
	hex.Encode(buf[0:8], id[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], id[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], id[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], id[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], id[10:])
	return buf[:]
}

// ParseGUID parses a GUID as the real service accepts it: 32 hex digits in
// 8-4-4-4-12 groups, whatever its version and variant bits (the original
// page's own example id has neither an RFC 4122 version nor variant). No
// braces, no urn:uuid: prefix.
// It reads s once, checking and decoding together.
func ParseGUID(s string) (uuid.UUID, bool) {
	var id uuid.UUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, false
	}
	for i, j := 0, 0; i < len(s); i += 2 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++ // the dash
		}
		hi, ok1 := hexDigit(s[i])
		lo, ok2 := hexDigit(s[i+1])
		if !ok1 || !ok2 {
			return uuid.UUID{}, false
		}
		id[j] = hi<<4 | lo
		j++
	}
	return id, true
}

// hexDigit is the value of the hex digit c.
func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// IsGUID reports whether s is a GUID (see ParseGUID).
func IsGUID(s string) bool {
	_, ok := ParseGUID(s)
	return ok
}

// IsIPv4 reports whether s is an IPv4 address in dotted-quad form without
// leading zeros.
func IsIPv4(s string) bool {
	addr, err := netip.ParseAddr(s)
	return err == nil && addr.Is4()
}

// IsIPv6 reports whether s is an IPv6 address in RFC 4291 text form, without
// a zone: a zone names an interface of the sender's machine, which means
// nothing to anybody else, and would let any text through.
func IsIPv6(s string) bool {
	addr, err := netip.ParseAddr(s)
	return err == nil && addr.Is6() && addr.Zone() == ""
}

// ParseDateTime parses an RFC 3339 date-time.
func ParseDateTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// IsDateTime reports whether s is an RFC 3339 date-time.
func IsDateTime(s string) bool {
	_, ok := ParseDateTime(s)
	return ok
}

// Length is the length of s for minLength and maxLength: its characters
// (code points), as JSON Schema counts them.
func Length(s string) int { return utf8.RuneCountInString(s) }

// ParseInteger parses a parameter's text as an integer that fits in bits.
func ParseInteger(s string, bits int) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, bits)
	return n, err == nil
}

// ParseNumber parses a parameter's text as a number.
func ParseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// ParseBoolean parses a parameter's text as true or false.
func ParseBoolean(s string) (value, ok bool) {
	switch s {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
