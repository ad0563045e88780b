package config

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Validator checks one parsed value, Kafka's ConfigDef.Validator. value has
// the Go representation of the key's Type (see Type), or is nil when the key
// is null: absent with a nil default, absent and required, or unparsable.
// Kafka runs validators on null too, so a validator that cannot accept null
// should say so, as Range does.
//
// Validate returns nil when the value is valid. An *InvalidValueError is
// shown to users as it is; any other error becomes the reason in
// "Invalid value <value> for configuration <name>: <reason>".
//
// A Validator that also implements fmt.Stringer describes the values it
// accepts, as Kafka's validators do in toString; that text is Key.ValidValues
// and the "Valid Values" column of generated docs.
type Validator interface {
	Validate(name string, value any) error
}

// ValidatorFunc adapts a function to Validator. It has no description; use
// LambdaValidator to give it one.
type ValidatorFunc func(name string, value any) error

// Validate calls f.
func (f ValidatorFunc) Validate(name string, value any) error { return f(name, value) }

// describedValidator is a Validator that says which values it accepts.
type describedValidator interface {
	Validator
	fmt.Stringer
}

// Compile-time checks that every built-in validator describes itself.
var (
	_ describedValidator = Range{}
	_ describedValidator = ValidStrings{}
	_ describedValidator = NonEmptyStringValidator{}
	_ describedValidator = NonNullValidator{}
	_ describedValidator = ListValidator{}
	_ describedValidator = RegexValidator{}
	_ describedValidator = CompositeValidator{}
	_ describedValidator = Lambda{}
)

// Range accepts numbers (Int, Long or Double values) between Min and Max
// inclusive, Kafka's ConfigDef.Range. A nil bound is open. Null is rejected.
type Range struct {
	Min, Max *float64
}

// AtLeast accepts numbers >= min, Kafka's Range.atLeast.
func AtLeast(min float64) Range { return Range{Min: &min} }

// Between accepts numbers in [min, max], Kafka's Range.between.
func Between(min, max float64) Range { return Range{Min: &min, Max: &max} }

// Validate rejects null ("Value must be non-null"), values below Min
// ("Value must be at least 1") and values above Max ("Value must be no more
// than 10").
func (r Range) Validate(name string, value any) error {
	if value == nil {
		return InvalidValue(name, nil, "Value must be non-null")
	}
	var n float64
	switch v := value.(type) {
	case int:
		n = float64(v)
	case int64:
		n = float64(v)
	case float64:
		n = v
	default:
		return InvalidValue(name, value, fmt.Sprintf("Expected a number, but it was a %T", value))
	}
	if r.Min != nil && n < *r.Min {
		return InvalidValue(name, value, "Value must be at least "+formatBound(*r.Min))
	}
	if r.Max != nil && n > *r.Max {
		return InvalidValue(name, value, "Value must be no more than "+formatBound(*r.Max))
	}
	return nil
}

// String describes the range as Kafka does: "[1,...]", "[1,...,10]",
// "[...,10]" or "[...]".
func (r Range) String() string {
	switch {
	case r.Min == nil && r.Max == nil:
		return "[...]"
	case r.Min == nil:
		return "[...," + formatBound(*r.Max) + "]"
	case r.Max == nil:
		return "[" + formatBound(*r.Min) + ",...]"
	}
	return "[" + formatBound(*r.Min) + ",...," + formatBound(*r.Max) + "]"
}

// formatBound prints a bound as Kafka prints the Integer or Long bounds
// connectors use: 1, not 1.0.
func formatBound(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// ValidStrings accepts one of a fixed set of strings, Kafka's
// ConfigDef.ValidString and, with CaseInsensitive, CaseInsensitiveValidString.
// Null is rejected.
type ValidStrings struct {
	// Values are the accepted strings, upper-cased when CaseInsensitive.
	Values          []string
	CaseInsensitive bool
}

// ValidString accepts exactly one of values, Kafka's ValidString.in.
func ValidString(values ...string) ValidStrings {
	return ValidStrings{Values: slices.Clone(values)}
}

// CaseInsensitiveValidString accepts one of values in any case, Kafka's
// CaseInsensitiveValidString.in. Like Kafka it keeps (and prints) the values
// upper-cased.
func CaseInsensitiveValidString(values ...string) ValidStrings {
	upper := make([]string, 0, len(values))
	for _, v := range values {
		if u := strings.ToUpper(v); !slices.Contains(upper, u) {
			upper = append(upper, u)
		}
	}
	return ValidStrings{Values: upper, CaseInsensitive: true}
}

// Validate returns "String must be one of: a, b" or, case-insensitively,
// "String must be one of (case insensitive): A, B".
func (v ValidStrings) Validate(name string, value any) error {
	s, ok := value.(string)
	if v.CaseInsensitive {
		if !ok || !slices.Contains(v.Values, strings.ToUpper(s)) {
			return InvalidValue(name, value, "String must be one of (case insensitive): "+strings.Join(v.Values, ", "))
		}
		return nil
	}
	if !ok || !slices.Contains(v.Values, s) {
		return InvalidValue(name, value, "String must be one of: "+strings.Join(v.Values, ", "))
	}
	return nil
}

// String returns "[a, b]" or "(case insensitive) [A, B]", as Kafka does.
func (v ValidStrings) String() string {
	list := "[" + strings.Join(v.Values, ", ") + "]"
	if v.CaseInsensitive {
		return "(case insensitive) " + list
	}
	return list
}

// NonEmptyStringValidator rejects the empty string, Kafka's
// ConfigDef.NonEmptyString. Null passes.
type NonEmptyStringValidator struct{}

// NonEmptyString returns a NonEmptyStringValidator.
func NonEmptyString() NonEmptyStringValidator { return NonEmptyStringValidator{} }

// Validate returns "String must be non-empty" for "".
func (NonEmptyStringValidator) Validate(name string, value any) error {
	if s, ok := value.(string); ok && s == "" {
		return InvalidValue(name, value, "String must be non-empty")
	}
	return nil
}

// String returns "non-empty string".
func (NonEmptyStringValidator) String() string { return "non-empty string" }

// NonNullValidator rejects null, Kafka's ConfigDef.NonNullValidator.
type NonNullValidator struct{}

// Validate returns "entry must be non null" for null.
func (NonNullValidator) Validate(name string, value any) error {
	if value == nil {
		return InvalidValue(name, nil, "entry must be non null")
	}
	return nil
}

// String returns "non-null string".
func (NonNullValidator) String() string { return "non-null string" }

// ListValidator accepts a List whose every item is one of Allowed, Kafka's
// ConfigDef.ValidList (before Kafka 4.1 added duplicate and empty checks).
// Null passes; combine with NonNullValidator to reject it.
type ListValidator struct {
	Allowed []string
}

// ValidList returns a ListValidator, Kafka's ValidList.in.
func ValidList(allowed ...string) ListValidator {
	return ListValidator{Allowed: slices.Clone(allowed)}
}

// Validate rejects the first item that is not allowed, with the item as the
// invalid value: "Invalid value c for configuration x: String must be one
// of: a, b".
func (v ListValidator) Validate(name string, value any) error {
	if value == nil {
		return nil
	}
	items, ok := value.([]string)
	if !ok {
		return InvalidValue(name, value, "Expected a comma separated list.")
	}
	allowed := ValidStrings{Values: v.Allowed}
	for _, item := range items {
		if err := allowed.Validate(name, item); err != nil {
			return err
		}
	}
	return nil
}

// String returns "[a, b]", as Kafka does.
func (v ListValidator) String() string { return ValidStrings{Values: v.Allowed}.String() }

// RegexValidator accepts a string that compiles as a Go regular expression
// (RE2 syntax, not Java's), like Kafka Connect's RegexValidator. Null passes.
type RegexValidator struct{}

// Regex returns a RegexValidator.
func Regex() RegexValidator { return RegexValidator{} }

// Validate returns "Invalid regex: <why>" when the string does not compile.
func (RegexValidator) Validate(name string, value any) error {
	if value == nil {
		return nil
	}
	s, ok := value.(string)
	if !ok {
		return InvalidValue(name, value, fmt.Sprintf("Invalid regex: expected a string, but it was a %T", value))
	}
	if _, err := regexp.Compile(s); err != nil {
		return InvalidValue(name, value, "Invalid regex: "+err.Error())
	}
	return nil
}

// String returns "valid regex".
func (RegexValidator) String() string { return "valid regex" }

// CompositeValidator runs validators in order and returns the first error,
// Kafka's ConfigDef.CompositeValidator.
type CompositeValidator []Validator

// Composite returns a CompositeValidator of validators, Kafka's
// CompositeValidator.of.
func Composite(validators ...Validator) CompositeValidator {
	return CompositeValidator(slices.Clone(validators))
}

// Validate returns the first validator's error.
func (c CompositeValidator) Validate(name string, value any) error {
	for _, v := range c {
		if err := v.Validate(name, value); err != nil {
			return err
		}
	}
	return nil
}

// String joins the descriptions of the validators with ", ", as Kafka does;
// validators without a description are left out.
func (c CompositeValidator) String() string {
	var parts []string
	for _, v := range c {
		if d := describe(v); d != "" {
			parts = append(parts, d)
		}
	}
	return strings.Join(parts, ", ")
}

// Lambda is a validator function with a description, Kafka's
// ConfigDef.LambdaValidator.
type Lambda struct {
	Func        ValidatorFunc
	Description string
}

// LambdaValidator returns a Lambda, Kafka's LambdaValidator.with.
func LambdaValidator(fn ValidatorFunc, description string) Lambda {
	return Lambda{Func: fn, Description: description}
}

// Validate calls l.Func.
func (l Lambda) Validate(name string, value any) error { return l.Func(name, value) }

// String returns the description.
func (l Lambda) String() string { return l.Description }

// describe returns a validator's description, or "" when it has none.
func describe(v Validator) string {
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	return ""
}
