package reqcheck

import (
	"bytes"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// A property name given twice in one object is refused (the standard
// library's v1 decoder keeps the last, another reader may keep the first).
// Each object keeps the hashes of its names: a few in a list, more in a set,
// 8 bytes a name and none of the names themselves (jsontext's own check keeps
// each name, some 150 bytes a name: a 1 MiB body of 100,000 names cost 15 MB
// a read). A hash seen before is confirmed by reading the object's names
// again from its start, once: the body is refused then, and a collision of
// 64-bit hashes under a seed chosen at start-up is not an attacker's to make.

// nameSeed keys the name hashes; chosen once per process, never changed.
var nameSeed = maphash.MakeSeed()

// fewNames is how many names an object keeps in a list before a set.
const fewNames = 16

// seenBefore reports whether the object l has had its current name before.
// An object that has had a name its schema does not allow is refused
// already: past its first few names, its names are checked against those
// kept but no more are kept, so that a body of a hundred thousand unknown
// names costs no set of them.
func (d *Decoder) seenBefore(l *level) bool {
	h := maphash.Bytes(nameSeed, l.name)
	if l.many == nil {
		if slices.Contains(l.few, h) {
			return d.nameRepeated(l)
		}
		if len(l.few) < fewNames {
			l.few = append(l.few, h)
			return false
		}
		if l.refused {
			return false
		}
		l.many = make(map[uint64]struct{}, 4*fewNames)
		for _, seen := range l.few {
			l.many[seen] = struct{}{}
		}
	}
	if _, ok := l.many[h]; ok {
		return d.nameRepeated(l)
	}
	if !l.refused {
		l.many[h] = struct{}{}
	}
	return false
}

// nameRepeated reads the names the object l had before its current one, from
// the object's start, and reports whether one is the current name.
func (d *Decoder) nameRepeated(l *level) bool {
	dec := jsontext.NewDecoder(bytes.NewReader(d.body[l.start:]), jsontext.AllowDuplicateNames(true))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return false
	}
	var name []byte
	for range l.count - 1 {
		raw, err := dec.ReadValue()
		if err != nil {
			return false
		}
		if name, err = jsontext.AppendUnquote(name[:0], raw); err != nil {
			return false
		}
		if bytes.Equal(name, l.name) {
			return true
		}
		if err := dec.SkipValue(); err != nil {
			return false
		}
	}
	return false
}

// duplicate is the error of a name given twice, as jsontext's own check
// reports one: its JSON pointer names the property.
func (d *Decoder) duplicate() error {
	var b strings.Builder
	d.writePath(&b, func(name string) string { return name }) // whole: describe shortens it, as jsontext's
	return &jsontext.SyntacticError{ByteOffset: d.dec.InputOffset(), JSONPointer: jsontext.Pointer(b.String()), Err: jsontext.ErrDuplicateName}
}
