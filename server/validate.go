package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
)

// FormatValidators are the string formats the spec uses that kin-openapi
// does not check by itself. A "uuid" is a GUID as the real service accepts
// it: 32 hex digits in 8-4-4-4-12 groups, whatever its version and variant
// bits (the original page's own example id has neither RFC 4122 version nor
// variant). Tests validate responses with the same set.
func FormatValidators() map[string]openapi3.StringFormatValidator {
	return map[string]openapi3.StringFormatValidator{
		"uuid": openapi3.NewCallbackValidator(validateGUID),
		"ipv4": openapi3.NewIPValidator(true),
		"ipv6": openapi3.NewIPValidator(false),
	}
}

func validateGUID(s string) error {
	if len(s) != 36 {
		return errors.New("not a GUID")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return errors.New("not a GUID")
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return errors.New("not a GUID")
			}
		}
	}
	return nil
}

// validationOptions are the kin-openapi options every request is checked
// with: every violation collected, no schema dumps in messages, the formats
// above checked. Authentication is bearerAuth's job, which runs first.
func validationOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:          true,
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults: true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.DisableSchemaErrorDetails(),
			openapi3.WithStringFormatValidators(FormatValidators()),
		},
	}
}

// requestValidator checks requests for one operation against the spec. It is
// built once at start-up with the operation's route already resolved, so a
// request is never routed twice (Echo has routed it).
type requestValidator struct {
	route   *routers.Route
	shadows []shadow
	// fastParamsOK says the operation's parameters compiled for the fast
	// path; with fastParams and fastBody most valid requests and the usual
	// invalid bodies skip kin-openapi (see fastpath.go).
	fastParamsOK bool
	fastParams   []fastParam
	fastBody     *fastBody
	options      *openapi3filter.Options
	maxBody      int64
}

func (v *requestValidator) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		for _, sh := range v.shadows {
			if sh.matches(c) {
				c.Response().Header().Set(echo.HeaderAllow, sh.allow)
				return echo.ErrMethodNotAllowed
			}
		}
		var data []byte
		if body := v.route.Operation.RequestBody; body != nil && body.Value != nil {
			if err := v.checkContentType(req, body.Value); err != nil {
				return err
			}
			// net/http gets its own body back, read to the end, once the
			// handler is done: handed one of ours, it would copy whatever
			// is left of it to io.Discard, allocating on every request
			// (measured under load).
			original := req.Body
			defer func() { req.Body = original }()
			var err error
			if data, err = v.bufferBody(req); err != nil {
				return err
			}
		}
		if v.fastParamsOK && paramsValid(v.fastParams, c.Param, req.Header) {
			if v.route.Operation.RequestBody == nil {
				return next(c)
			}
			if v.fastBody != nil {
				switch verdict, value, details := v.fastBody.check(data); verdict {
				case fastValid:
					if b, ok := req.Body.(*bufferedBody); ok {
						b.validated = value.Interface()
					}
					return next(c)
				case fastInvalid:
					return badRequest(details)
				}
			}
		}
		names, values := c.ParamNames(), c.ParamValues()
		params := make(map[string]string, len(names))
		for i, name := range names {
			if i >= len(values) || values[i] == "" {
				// Echo matches an empty segment to a parameter; a path template
				// does not (a path parameter is never empty), so to the spec
				// this is no route at all.
				return notFound(msgNotFoundRoute)
			}
			params[name] = values[i]
		}
		err := openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      v.route,
			Options:    v.options,
		})
		if err != nil {
			return requestViolations(err)
		}
		return next(c)
	}
}

// checkContentType answers 415 unless the body's media type is one the
// operation declares. A request without a body and without a Content-Type
// falls through to the validator, which reports the missing body as a 400.
func (v *requestValidator) checkContentType(req *http.Request, body *openapi3.RequestBody) error {
	ct := req.Header.Get(echo.HeaderContentType)
	if ct == "" {
		if req.ContentLength == 0 {
			return nil
		}
		return &apiError{status: http.StatusUnsupportedMediaType, code: generated.ErrorCodeUnsupportedMediaType,
			message: msgNoContentType, target: echo.HeaderContentType}
	}
	if _, ok := body.Content[ct]; ok {
		return nil // the usual case: exactly a media type the spec names
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err == nil && body.Content.Get(mediaType) != nil {
		// Media types are case-insensitive and may carry parameters; hand the
		// validator the canonical form it matches the spec's content with.
		req.Header.Set(echo.HeaderContentType, mediaType)
		return nil
	}
	accepted := make([]string, 0, len(body.Content))
	for name := range body.Content {
		accepted = append(accepted, name)
	}
	sort.Strings(accepted)
	return &apiError{status: http.StatusUnsupportedMediaType, code: generated.ErrorCodeUnsupportedMediaType,
		message: fmt.Sprintf("Content-Type %q is not supported; use %s.", ct, strings.Join(accepted, " or ")),
		target:  echo.HeaderContentType}
}

// bufferBody reads the body into memory, up to maxBody bytes, so that the
// validator and the handler read the same bytes and an oversize body is a 413
// rather than a truncated read.
func (v *requestValidator) bufferBody(req *http.Request) ([]byte, error) {
	if req.ContentLength > v.maxBody {
		return nil, v.tooLarge()
	}
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	var data []byte
	var err error
	if n := req.ContentLength; n >= 0 {
		// The length is known and within the limit: one allocation of the
		// right size (net/http stops the body at Content-Length).
		data = make([]byte, n)
		_, err = io.ReadFull(req.Body, data)
	} else {
		data, err = io.ReadAll(io.LimitReader(req.Body, v.maxBody+1))
	}
	if err != nil {
		return nil, badRequest([]generated.ErrorDetail{violation("", "The request body could not be read.")})
	}
	if int64(len(data)) > v.maxBody {
		return nil, v.tooLarge()
	}
	_ = req.Body.Close()
	req.ContentLength = int64(len(data))
	b := &bufferedBody{}
	b.Reset(data)
	req.Body = b
	return data, nil
}

func (v *requestValidator) tooLarge() *apiError {
	return &apiError{status: http.StatusRequestEntityTooLarge, code: generated.ErrorCodeRequestEntityTooLarge,
		message: fmt.Sprintf("The request body is larger than %d bytes.", v.maxBody)}
}

// bufferedBody is a request body read into memory. When the fast path has
// decoded it, it also carries the result, so that the handler does not decode
// it again (kin-openapi's KeepValidatedValue option uses the same device).
type bufferedBody struct {
	bytes.Reader
	validated any
}

// Close implements io.Closer.
func (*bufferedBody) Close() error { return nil }

// ValidatedValue is what the fast path decoded: a pointer to the operation's
// generated body type, or nil.
func (b *bufferedBody) ValidatedValue() any { return b.validated }

// requestViolations turns what kin-openapi reports into one 400 that lists
// every violation: parameters first, in the order the spec lists them, then
// the body's, ordered by JSON pointer.
func requestViolations(err error) *apiError {
	var details []generated.ErrorDetail
	for _, e := range flatten(err) {
		details = append(details, describeRequestError(e)...)
	}
	if len(details) == 0 {
		details = []generated.ErrorDetail{violation("", "The request does not match the API description.")}
	}
	return badRequest(details)
}

// flatten unrolls nested MultiErrors, but not errors that merely wrap one:
// a RequestError wrapping the body's MultiError stays whole.
func flatten(err error) []error {
	if me, ok := err.(openapi3.MultiError); ok {
		var out []error
		for _, e := range me {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func describeRequestError(err error) []generated.ErrorDetail {
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		return []generated.ErrorDetail{violation("", "The request does not match the API description.")}
	}
	if p := re.Parameter; p != nil {
		return []generated.ErrorDetail{violation(p.Name, describeParameterError(p, re))}
	}
	// The request body.
	if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
		return []generated.ErrorDetail{violation("", "A request body is required.")}
	}
	var pe *openapi3filter.ParseError
	if errors.As(re.Err, &pe) {
		return []generated.ErrorDetail{violation("", msgInvalidJSON)}
	}
	var details []generated.ErrorDetail
	for _, e := range flatten(re.Err) {
		var se *openapi3.SchemaError
		if errors.As(e, &se) {
			target, message := describeSchemaError(se)
			details = append(details, violation(target, message))
		}
	}
	if len(details) == 0 {
		return []generated.ErrorDetail{violation("", "The request body does not match the API description.")}
	}
	sortByTarget(details)
	return details
}

// sortByTarget orders a body's violations by JSON pointer, keeping the
// order of those on one target: both validation paths report them so.
func sortByTarget(details []generated.ErrorDetail) {
	slices.SortStableFunc(details, func(a, b generated.ErrorDetail) int { return strings.Compare(targetOf(a), targetOf(b)) })
}

func describeParameterError(p *openapi3.Parameter, re *openapi3filter.RequestError) string {
	if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
		return fmt.Sprintf("%s %s is required", p.In, p.Name)
	}
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		_, message := describeSchemaError(se)
		return message
	}
	var pe *openapi3filter.ParseError
	if errors.As(re.Err, &pe) {
		if s := p.Schema; s != nil && s.Value != nil && s.Value.Type != nil && len(s.Value.Type.Slice()) > 0 {
			return fmt.Sprintf("value %s is not %s", quoteValue(pe.Value), article(s.Value.Type.Slice()[0]))
		}
	}
	return fmt.Sprintf("%s %s is not valid", p.In, p.Name)
}

// describeSchemaError says which value broke which rule of the schema, in one
// sentence that names the rule from the schema itself (never a schema dump).
// The target is the JSON pointer to the offending value.
func describeSchemaError(se *openapi3.SchemaError) (target, message string) {
	path := se.JSONPointer()
	s := se.Schema
	switch se.SchemaField {
	case "required":
		name := quotedName(se.Reason)
		return pointer(withProperty(path, name)), msgRequired(name)
	case "additionalProperties", "properties":
		name := quotedName(se.Reason)
		return pointer(withProperty(path, name)), msgNotAllowed(name)
	case "enum":
		allowed := make([]string, 0, len(s.Enum))
		for _, e := range s.Enum {
			allowed = append(allowed, fmt.Sprint(e))
		}
		return pointer(path), msgEnum(quoteValue(se.Value), strings.Join(allowed, ", "))
	case "format":
		return pointer(path), msgFormat(quoteValue(se.Value), s.Format)
	case "anyOf", "oneOf":
		return pointer(path), msgAlternatives(quoteValue(se.Value), strings.Join(alternatives(s), " or "))
	case "type":
		if s.Type != nil && len(s.Type.Slice()) > 0 {
			return pointer(path), fmt.Sprintf("value must be %s, not %s", article(s.Type.Slice()[0]), article(jsonKind(se.Value)))
		}
	case "nullable":
		return pointer(path), "value must not be null"
	case "minLength":
		return pointer(path), msgMinLength(s.MinLength)
	case "maxLength":
		if s.MaxLength != nil {
			return pointer(path), msgMaxLength(*s.MaxLength)
		}
	case "minimum":
		if s.Min != nil {
			return pointer(path), fmt.Sprintf("value %s is less than the minimum %v", quoteValue(se.Value), *s.Min)
		}
	case "maximum":
		if s.Max != nil {
			return pointer(path), fmt.Sprintf("value %s is more than the maximum %v", quoteValue(se.Value), *s.Max)
		}
	}
	return pointer(path), se.Reason
}

// The messages of the rules both the kin-openapi path and the fast path check,
// written once so that the two cannot drift apart.

func msgRequired(name string) string   { return "property " + name + " is required" }
func msgNotAllowed(name string) string { return "property " + name + " is not allowed" }

// The value arguments are as quoteValue (or quoteString) renders them.
func msgEnum(value, allowed string) string { return "value " + value + " is not one of " + allowed }
func msgFormat(value, format string) string {
	return "value " + value + " is not a valid " + format
}
func msgAlternatives(value, alternatives string) string {
	return "value " + value + " is not a valid " + alternatives
}
func msgMinLength(n uint64) string { return "value must be at least " + characters(n) + " long" }
func msgMaxLength(n uint64) string { return "value must be at most " + characters(n) + " long" }

func characters(n uint64) string {
	if n == 1 {
		return "1 character"
	}
	return strconv.FormatUint(n, 10) + " characters"
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "number"
}

// alternatives names the branches of an anyOf or oneOf by their format, or type.
func alternatives(s *openapi3.Schema) []string {
	refs := s.AnyOf
	if len(refs) == 0 {
		refs = s.OneOf
	}
	var names []string
	for _, r := range refs {
		switch {
		case r.Value == nil:
		case r.Value.Format != "":
			names = append(names, r.Value.Format)
		case r.Value.Type != nil && len(r.Value.Type.Slice()) > 0:
			names = append(names, r.Value.Type.Slice()[0])
		}
	}
	if len(names) == 0 {
		return []string{"value"}
	}
	return names
}

// withProperty is the path to property name: kin-openapi's path may end at
// the object or at the property itself.
func withProperty(path []string, name string) []string {
	if len(path) == 0 || path[len(path)-1] != name {
		return append(path, name)
	}
	return path
}

// quotedName finds the name in kin-openapi's reasons such as
// `property "x" is missing` and `property "x" is unsupported`. The name is
// Go-quoted there (%q), so a name with unusual characters is unquoted back.
func quotedName(reason string) string {
	i := strings.IndexByte(reason, '"')
	if i < 0 {
		return ""
	}
	quoted, err := strconv.QuotedPrefix(reason[i:])
	if err != nil {
		return ""
	}
	name, err := strconv.Unquote(quoted)
	if err != nil {
		return ""
	}
	return name
}

// pointer renders a JSON pointer (RFC 6901), escaping ~ and /.
func pointer(path []string) string {
	var b strings.Builder
	for _, p := range path {
		b.WriteByte('/')
		if strings.ContainsAny(p, "~/") {
			p = strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
		}
		b.WriteString(p)
	}
	return b.String()
}

// quoteValue renders a value the way it appeared in JSON, shortened so that a
// huge input cannot make a huge error.
func quoteValue(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		return quoteString(x)
	case map[string]any:
		s = "an object"
	case []any:
		s = "an array"
	case nil:
		s = "null"
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return "of this type"
		}
		s = string(b)
		if len(s) > maxQuoted {
			s = s[:maxQuoted] + "…"
		}
	}
	return s
}

// maxQuoted is how much of a value a message quotes, so that a huge input
// cannot make a huge error.
const maxQuoted = 64

// quoteString is quoteValue for a string, without boxing it in an interface.
func quoteString(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted] + "…")
	}
	return strconv.Quote(s)
}

func article(typ string) string {
	switch typ {
	case "integer", "array", "object":
		return "an " + typ
	case "null":
		return typ
	}
	return "a " + typ
}

func targetOf(d generated.ErrorDetail) string {
	if d.Target == nil {
		return ""
	}
	return *d.Target
}

func (sh shadow) matches(c echo.Context) bool {
	for name, literal := range sh.literals {
		if c.Param(name) != literal {
			return false
		}
	}
	return true
}
