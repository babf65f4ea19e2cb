// Package reqcheck is what the generated request validators
// (generated/validation, written by internal/validatorgen) call: the list of
// violations, a JSON body decoder that checks as it decodes, the string
// formats, and the messages, each written once.
//
// The validators are plain Go: no schema is interpreted and no reflection
// runs per request. Every check is linear in the size of its input: the body
// decoder is jsontext's (github.com/go-json-experiment/json, the code behind
// the standard library's encoding/json/v2 experiment), which reads a value
// once, refuses duplicate names, invalid UTF-8 and lone surrogate escapes,
// and stops at a nesting depth of 10,000.
package reqcheck

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Violation is one rule a request breaks: Target is the parameter or header
// name, or a JSON pointer into the body ("" for the body as a whole), and
// Message says the rule in one sentence.
type Violation struct {
	Target  string
	Message string
}

// MaxViolations is how many violations one request reports at the most; a
// body of a hundred thousand unknown properties gets a short answer.
const MaxViolations = 100

// Violations collects what a request breaks, in the order found, up to
// MaxViolations. The zero value is ready to use.
type Violations struct {
	list    []Violation
	dropped int
}

// Add records a violation.
func (v *Violations) Add(target, message string) {
	if len(v.list) >= MaxViolations {
		v.dropped++
		return
	}
	v.list = append(v.list, Violation{Target: target, Message: message})
}

// addFrom adds o's violations, each message after prefix, and counts those
// o left out.
func (v *Violations) addFrom(o *Violations, prefix string) {
	for _, x := range o.list {
		v.Add(x.Target, prefix+x.Message)
	}
	v.dropped += o.dropped
}

// Full reports that the list is at MaxViolations: a caller can count a
// further violation (Drop) without building its message.
func (v *Violations) Full() bool { return len(v.list) >= MaxViolations }

// Drop counts a violation past MaxViolations without keeping it.
func (v *Violations) Drop() { v.dropped++ }

// Len is how many violations were found, including those past MaxViolations.
func (v *Violations) Len() int { return len(v.list) + v.dropped }

// List is the violations kept, in order; when more were found than kept, a
// last entry says how many were left out.
func (v *Violations) List() []Violation {
	if v.dropped == 0 {
		return v.list
	}
	return append(slices.Clip(v.list), Violation{Message: msgDropped(v.dropped)})
}

// truncate drops the violations from index n on (the body's, when the body
// turned out not to be JSON at all).
func (v *Violations) truncate(n int) {
	v.list = v.list[:n]
	v.dropped = 0
}

// sortFrom orders the violations from index n on by target, keeping the order
// of those on one target: a body's violations read by JSON pointer.
func (v *Violations) sortFrom(n int) {
	slices.SortStableFunc(v.list[n:], func(a, b Violation) int { return strings.Compare(a.Target, b.Target) })
}

// PathParams gives a request's path parameters.
type PathParams interface {
	// PathParam returns a path parameter's value, unescaped; "" when absent.
	PathParam(name string) string
}

// Input is one request as a validator sees it.
type Input struct {
	// Path gives the path parameters.
	Path PathParams
	// Query is the parsed query string.
	Query url.Values
	// Header is the request's header.
	Header http.Header
	// Body is the request body, read whole; nil or empty when none was sent.
	Body []byte

	lists [4]headerList // the list-based headers split so far
}

// headerList is one list-based header's items, split once.
type headerList struct {
	key   string
	items []string
}

// Items is the items of the list-based header key (canonical, such as
// "Prefer"), as ListItems splits them: split once, however often asked
// (the server reads Prefer and client-request-id before the check does).
func (in *Input) Items(key string) []string {
	for i := range in.lists {
		switch in.lists[i].key {
		case key:
			return in.lists[i].items
		case "":
			items := ListItems(in.Header[key])
			in.lists[i] = headerList{key: key, items: items}
			return items
		}
	}
	return ListItems(in.Header[key])
}

// Checked is what an operation's check made of a request that passed it.
type Checked struct {
	// Params are the path, query and header parameters, parsed into their
	// generated types: a pointer to a struct of the generated validators
	// that their Handlers hand to the server interface's method; nil when
	// the operation has none.
	Params any
	// Body is the body decoded into its generated type (a pointer), or nil
	// when the operation takes none.
	Body any
}

// Operation is one operation of the spec, as the generated code describes it
// to a server.
type Operation struct {
	// ID is the operationId as the spec writes it.
	ID string
	// Method is the HTTP method, upper case.
	Method string
	// Path is the spec's path template, such as /applications/{applicationsId}.
	Path string
	// Tags are the operation's tags in the spec, such as "members".
	Tags []string
	// Secured says the operation requires authentication.
	Secured bool
	// BodyMediaTypes are the media types the request body may have; nil when
	// the operation takes no body.
	BodyMediaTypes []string
	// Check checks the request's parameters, headers and body against the
	// spec, adding what it breaks to vs, and parses each once: with no
	// violation, what it returns is the request in the generated types.
	Check func(in *Input, vs *Violations) Checked
}

// UnknownOptions reports every OData system query option (a query parameter
// whose name begins with $) that the operation does not declare: an option
// the API does not support is refused rather than silently ignored. Other
// unknown query parameters are left alone.
func UnknownOptions(query url.Values, vs *Violations, declared ...string) {
	var unknown []string
	for name := range query {
		if strings.HasPrefix(name, "$") && !slices.Contains(declared, name) {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		vs.Add(Shorten(name), MsgUnsupportedOption(name))
	}
}

// ListItems is the items of a list-based header (RFC 9110, section 5.3):
// every field line split on its commas, each item trimmed. Several lines are
// one list.
func ListItems(lines []string) []string {
	var items []string
	for _, line := range lines {
		for item := range strings.SplitSeq(line, ",") {
			items = append(items, strings.TrimSpace(item))
		}
	}
	return items
}

// The setters below let generated code store a checked value in a field of
// whatever type oapi-codegen chose for it, without the generator spelling
// the type out.

// Alloc points *p at a new T and returns it: an optional property's field.
func Alloc[T any](p **T) *T {
	*p = new(T)
	return *p
}

// Entry is the value under key in the map *p (made when nil), stored once
// set: an object's next entry where the schema gives its values a schema
// (additionalProperties).
func Entry[V any](p *map[string]V, key string, set func(*V)) {
	if *p == nil {
		*p = map[string]V{}
	}
	var v V
	set(&v)
	(*p)[key] = v
}

// Grow appends a zero item to *p and returns it: an array's next item.
func Grow[T any](p *[]T) *T {
	var zero T
	*p = append(*p, zero)
	return &(*p)[len(*p)-1]
}

// SetString stores s in a string-kinded field (an enum type, a plain string).
func SetString[T ~string](p *T, s string) { *p = T(s) }

// SetInt stores n in an integer field.
func SetInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](p *T, n int64) { *p = T(n) }

// SetFloat stores f in a floating-point field.
func SetFloat[T ~float32 | ~float64](p *T, f float64) { *p = T(f) }

// SetBool stores b in a boolean field.
func SetBool[T ~bool](p *T, b bool) { *p = T(b) }
