package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/go-json-experiment/json/jsontext"
	"go.yaml.in/yaml/v3"
)

// A seed file is read in time and memory linear in its size, whatever it
// holds. JSON is read as a stream of tokens: the file's own structure (its
// three lists, a group's id and members, an application's id, group and
// members) by name, and each entry kept as the JSON it is, for the
// generated validator, whose checks (unknown and duplicate names among
// them) are linear. YAML is read by go.yaml.in/yaml/v3, whose check for
// duplicate keys compares every pair of a mapping's keys and whose node tree
// holds some 40 bytes for each byte of the file: so a YAML file is at most
// maxYAMLSeed bytes, and no mapping in it has more than maxYAMLKeys keys.

// seedEntries are a seed file's entries, each as the JSON the validator reads.
type seedEntries struct {
	connectors   []json.RawMessage
	groups       []seedGroup
	applications []seedApplication
}

type seedGroup struct {
	id         string
	properties json.RawMessage // the group but its id and members, as a create would send it
	members    []json.RawMessage
}

type seedApplication struct {
	id, connectorGroup string
	members            []json.RawMessage
}

const (
	// maxYAMLSeed is the largest YAML seed file: its parse takes some 170 MB
	// and half a second; a larger seed is written as JSON (up to maxSeedFile).
	maxYAMLSeed = 4 << 20
	// maxYAMLKeys is the most keys a mapping of a YAML seed file may have;
	// an entry has a handful.
	maxYAMLKeys = 256
)

// errNotJSON says a file that looked like JSON is not: it is read as YAML.
var errNotJSON = errors.New("not JSON")

// parseSeed reads a seed file: as JSON when it is JSON, as YAML otherwise.
func parseSeed(data []byte) (seedEntries, error) {
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		entries, err := parseJSONSeed(data)
		// A file that begins {" is meant as JSON: its syntax error is the
		// answer. Another that begins with { may be YAML's flow style.
		if !errors.Is(err, errNotJSON) || bytes.HasPrefix(bytes.TrimLeft(trimmed[1:], " \t\r\n"), []byte{'"'}) {
			return entries, err
		}
	}
	return parseYAMLSeed(data)
}

// parseJSONSeed reads a JSON seed file in one pass.
func parseJSONSeed(data []byte) (seedEntries, error) {
	var out seedEntries
	r := &seedReader{dec: jsontext.NewDecoder(bytes.NewReader(data), jsontext.AllowDuplicateNames(true))}
	err := r.object("the file", nil, func(name string) error {
		switch name {
		case "connectors":
			return r.array(func() error { return r.raw(&out.connectors) })
		case "connectorGroups":
			return r.array(func() error {
				var g seedGroup
				props := []byte{'{'}
				err := r.object("a connector group", []string{"id", "members"}, func(name string) error {
					switch name {
					case "id":
						return r.str(&g.id)
					case "members":
						return r.array(func() error { return r.raw(&g.members) })
					}
					if len(props) > 1 {
						props = append(props, ',')
					}
					props, _ = jsontext.AppendQuote(props, name) // a name read from JSON is valid UTF-8
					props = append(props, ':')
					v, err := r.dec.ReadValue()
					props = append(props, v...)
					return r.syntax(err)
				})
				g.properties = append(props, '}')
				out.groups = append(out.groups, g)
				return err
			})
		case "applications":
			return r.array(func() error {
				var a seedApplication
				err := r.object("an application", nil, func(name string) error {
					switch name {
					case "id":
						return r.str(&a.id)
					case "connectorGroup":
						return r.str(&a.connectorGroup)
					case "members":
						return r.array(func() error { return r.raw(&a.members) })
					}
					return fmt.Errorf("an application has no field %q: want id, connectorGroup and members", name)
				})
				out.applications = append(out.applications, a)
				return err
			})
		}
		return fmt.Errorf("field %q not found: a seed file has connectors, connectorGroups and applications", name)
	})
	if err != nil {
		return seedEntries{}, err
	}
	if _, err := r.dec.ReadToken(); err != io.EOF {
		if _, ok := errors.AsType[*jsontext.SyntacticError](err); ok {
			return seedEntries{}, r.syntax(err)
		}
		return seedEntries{}, errors.New("holds more than one YAML document or JSON value; put every application in the first")
	}
	return out, nil
}

// seedReader reads the structure of a JSON seed file.
type seedReader struct {
	dec *jsontext.Decoder
}

// syntax is err as the file's reader reports it: errNotJSON before the
// first value ends (the file may be YAML's flow style), the place otherwise.
func (r *seedReader) syntax(err error) error {
	if err == nil {
		return nil
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: at byte %d: %v", errNotJSON, r.dec.InputOffset(), err)
	}
	return err
}

// object reads an object, calling field with each name; null is an empty
// object. A name is refused the second time when it is one of known or of
// the first 16 (an object of the file's own structure has a few names; a
// connector group's other properties are the validator's to check, in
// linear time).
func (r *seedReader) object(what string, known []string, field func(name string) error) error {
	if null, err := r.open('{', what+" is %s, not an object"); null || err != nil {
		return err
	}
	var seen []string
	for r.dec.PeekKind() != '}' {
		name, err := r.dec.ReadToken()
		if err != nil {
			return r.syntax(err)
		}
		if slices.Contains(seen, name.String()) {
			return fmt.Errorf("%s has %q twice", what, name.String())
		}
		if len(seen) < 16 || slices.Contains(known, name.String()) {
			seen = append(seen, name.String())
		}
		if err := field(name.String()); err != nil {
			return err
		}
	}
	_, err := r.dec.ReadToken()
	return r.syntax(err)
}

// open reads the token that opens an object or an array (delim), and
// reports null, which a seed file may give for either; any other value is
// refused with notIt, a format given the value's kind.
func (r *seedReader) open(delim jsontext.Kind, notIt string) (null bool, err error) {
	tok, err := r.dec.ReadToken()
	if err != nil {
		return false, r.syntax(err)
	}
	switch tok.Kind() {
	case 'n':
		return true, nil
	case delim:
		return false, nil
	}
	return false, fmt.Errorf(notIt, kindName(tok.Kind()))
}

// array reads an array, calling item for each; null is an empty array.
func (r *seedReader) array(item func() error) error {
	if null, err := r.open('[', "a list is %s, not an array"); null || err != nil {
		return err
	}
	for r.dec.PeekKind() != ']' {
		if err := item(); err != nil {
			return err
		}
	}
	_, err := r.dec.ReadToken()
	return r.syntax(err)
}

// raw appends the next value, as the file has it, to list.
func (r *seedReader) raw(list *[]json.RawMessage) error {
	v, err := r.dec.ReadValue()
	if err != nil {
		return r.syntax(err)
	}
	*list = append(*list, json.RawMessage(bytes.Clone(v)))
	return nil
}

// str reads a string (or null, as "").
func (r *seedReader) str(dst *string) error {
	tok, err := r.dec.ReadToken()
	if err != nil {
		return r.syntax(err)
	}
	switch tok.Kind() {
	case '"':
		*dst = tok.String()
	case 'n':
	default:
		return fmt.Errorf("%s where a string belongs", kindName(tok.Kind()))
	}
	return nil
}

// kindName names a JSON kind, with its article.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "a number"
}

// parseYAMLSeed reads a YAML seed file, within the bounds above.
func parseYAMLSeed(data []byte) (seedEntries, error) {
	if len(data) > maxYAMLSeed {
		return seedEntries{}, fmt.Errorf("is larger than %d MiB, the most a YAML seed file may be; write it as JSON (up to %d MiB)", maxYAMLSeed>>20, maxSeedFile>>20)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return seedEntries{}, notSeed(err)
	}
	if err := boundedMappings(&root); err != nil {
		return seedEntries{}, err
	}
	var file seedFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return seedEntries{}, notSeed(err)
	}
	var trailing any
	if err := dec.Decode(&trailing); !errors.Is(err, io.EOF) {
		return seedEntries{}, errors.New("holds more than one YAML document or JSON value; put every application in the first")
	}
	var out seedEntries
	asJSON := func(list []any) ([]json.RawMessage, error) {
		raws := make([]json.RawMessage, len(list))
		for i, v := range list {
			var err error
			if raws[i], err = json.Marshal(v); err != nil {
				return nil, err
			}
		}
		return raws, nil
	}
	var err error
	if out.connectors, err = asJSON(file.Connectors); err != nil {
		return seedEntries{}, err
	}
	for _, g := range file.ConnectorGroups {
		sg := seedGroup{id: g.ID}
		if sg.properties, err = json.Marshal(g.Properties); err != nil {
			return seedEntries{}, err
		}
		if sg.members, err = asJSON(g.Members); err != nil {
			return seedEntries{}, err
		}
		out.groups = append(out.groups, sg)
	}
	for _, a := range file.Applications {
		sa := seedApplication{id: a.ID, connectorGroup: a.ConnectorGroup}
		if sa.members, err = asJSON(a.Members); err != nil {
			return seedEntries{}, err
		}
		out.applications = append(out.applications, sa)
	}
	return out, nil
}

// boundedMappings refuses a mapping of more than maxYAMLKeys keys anywhere
// in the tree, before yaml.v3 compares their every pair.
func boundedMappings(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode && len(n.Content) > 2*maxYAMLKeys {
		return fmt.Errorf("line %d: a mapping of %d keys; no entry of a seed file has more than %d", n.Line, len(n.Content)/2, maxYAMLKeys)
	}
	for _, c := range n.Content {
		if err := boundedMappings(c); err != nil {
			return err
		}
	}
	return nil
}

// notSeed is the error of a file that is not a seed file's JSON or YAML.
func notSeed(err error) error {
	return fmt.Errorf(`not the JSON or YAML of {"connectors": [connector, …], "connectorGroups": [{"id": GUID, "name": …, "members": […]}], "applications": [{"id": GUID, "connectorGroup": GUID, "members": [connector, …]}]}: %w`, err)
}
