package reqcheck

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The messages every validator uses, one sentence each, naming the rule from
// the schema itself and never dumping it. Values and names are quoted and
// shortened (Quote), so a huge input cannot make a huge error.

// MsgBodyRequired is the message for an operation that requires a body and got none.
const MsgBodyRequired = "A request body is required."

// MsgInvalidJSON is the message for a body that is not JSON.
const MsgInvalidJSON = "The request body is not valid JSON."

// MsgInvalidUTF8 is the message for a body that is not UTF-8.
const MsgInvalidUTF8 = "The request body is not valid UTF-8."

// MsgInvalidQuery is the message for a query string that is not URL encoding.
const MsgInvalidQuery = "The query string is not valid URL encoding."

// maxQuoted is how many bytes of a value or name a message quotes.
const maxQuoted = 64

// Shorten cuts s to at most maxQuoted bytes (on a rune boundary), marking the
// cut with an ellipsis.
func Shorten(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Quote renders a string value for a message: Go-quoted and shortened.
func Quote(s string) string { return strconv.Quote(Shorten(s)) }

// MsgRequired says property name is missing.
func MsgRequired(name string) string { return "property " + Quote(name) + " is required" }

// MsgNotAllowed says property name is not one the schema allows.
func MsgNotAllowed(name string) string { return "property " + Quote(name) + " is not allowed" }

// MsgDuplicate says property name appears more than once in one object.
func MsgDuplicate(name string) string {
	return "property " + Quote(name) + " appears more than once"
}

// MsgLoneSurrogate says a string holds an escaped lone surrogate, which is no character.
const MsgLoneSurrogate = `value holds an escaped lone surrogate (\ud800 to \udfff without its pair)`

// MsgEnum says value is not one of the allowed values, listed as written.
func MsgEnum(value, allowed string) string {
	return "value " + Quote(value) + " is not one of " + allowed
}

// MsgFormat says value is not in format.
func MsgFormat(value, format string) string {
	return "value " + Quote(value) + " is not a valid " + format
}

// MsgAlternatives says value matches none of an anyOf's branches, named by
// their formats or types ("ipv4 or ipv6").
func MsgAlternatives(value, alternatives string) string {
	return "value " + Quote(value) + " is not a valid " + alternatives
}

// MsgPattern says value does not match the pattern.
func MsgPattern(value, pattern string) string {
	return "value " + Quote(value) + " does not match the pattern " + pattern
}

// MsgMinLength says a string is shorter than n characters.
func MsgMinLength(n int) string { return "value must be at least " + characters(n) + " long" }

// MsgMaxLength says a string is longer than n characters.
func MsgMaxLength(n int) string { return "value must be at most " + characters(n) + " long" }

func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return strconv.Itoa(n) + " characters"
}

// MsgMinItems says an array has fewer than n items.
func MsgMinItems(n int) string { return "array must have at least " + strconv.Itoa(n) + " items" }

// MsgMinProperties says an object has fewer than n properties.
func MsgMinProperties(n int) string {
	return "object must have at least " + strconv.Itoa(n) + " properties"
}

// MsgMaxProperties says an object has more than n properties.
func MsgMaxProperties(n int) string {
	return "object must have at most " + strconv.Itoa(n) + " properties"
}

// MsgMaxItems says an array has more than n items.
func MsgMaxItems(n int) string { return "array must have at most " + strconv.Itoa(n) + " items" }

// MsgMinimum says number is below the minimum (or at it, when exclusive).
func MsgMinimum(number, minimum string, exclusive bool) string {
	if exclusive {
		return "value " + Shorten(number) + " must be more than " + minimum
	}
	return "value " + Shorten(number) + " is less than the minimum " + minimum
}

// MsgMaximum says number is above the maximum (or at it, when exclusive).
func MsgMaximum(number, maximum string, exclusive bool) string {
	if exclusive {
		return "value " + Shorten(number) + " must be less than " + maximum
	}
	return "value " + Shorten(number) + " is more than the maximum " + maximum
}

// MsgType says the value has the wrong JSON type; want and got are type
// names such as "string" and "number".
func MsgType(want, got string) string {
	return "value must be " + article(want) + ", not " + article(got)
}

// MsgNotInteger says a parameter's text is not an integer.
func MsgNotInteger(value string) string { return "value " + Quote(value) + " is not an integer" }

// MsgReadOnly says a body sets a property the server sets.
func MsgReadOnly(name string) string {
	return "property " + Quote(name) + " is read-only: the server sets it"
}

// MsgOutOfRange says a parameter's integer does not fit the model's type.
func MsgOutOfRange(value string) string { return "value " + Quote(value) + " is out of range" }

// MsgNotNumber says a parameter's text is not a number.
func MsgNotNumber(value string) string { return "value " + Quote(value) + " is not a number" }

// MsgNotBoolean says a parameter's text is not true or false.
func MsgNotBoolean(value string) string { return "value " + Quote(value) + " is not true or false" }

// MsgParamRequired says a required parameter is missing; in is "path",
// "query" or "header".
func MsgParamRequired(in, name string) string { return in + " parameter " + name + " is required" }

// MsgRepeated says a parameter that takes one value was given n.
func MsgRepeated(in, name string, n int) string {
	return in + " parameter " + name + " is given " + strconv.Itoa(n) + " times; give it once"
}

// MsgUnsupportedOption says a query option is not one the operation supports.
func MsgUnsupportedOption(name string) string {
	return "query option " + Quote(name) + " is not supported by this operation"
}

func msgDropped(n int) string {
	return "and " + strconv.Itoa(n) + " more violations, not listed"
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

// MsgOneOfNone says the body fits none of the forms of a oneOf.
func MsgOneOfNone(forms []string) string {
	return "the body fits none of its forms (" + strings.Join(forms, ", ") + "); what each form finds wrong follows"
}

// MsgOneOfSeveral says the body fits more than one form of a oneOf.
func MsgOneOfSeveral(forms []string) string {
	return "the body fits more than one of its forms (" + strings.Join(forms, ", ") + "); it must fit exactly one"
}
