package config

import (
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Type is the type of a configuration value, Kafka's ConfigDef.Type (without
// SHORT, which connectors do not use).
//
// Each type parses from the string a user writes and has one Go representation,
// which is what validators receive and what Values.Get returns:
//
//	Boolean  bool
//	String   string
//	Int      int (range of a Java int, 32 bits)
//	Long     int64
//	Double   float64
//	List     []string
//	Class    string (the class or plugin name)
//	Password Secret
type Type int

// The configuration types, in Kafka's order (SHORT left out).
const (
	Boolean Type = iota
	String
	Int
	Long
	Double
	List
	Class
	Password
)

var typeNames = [...]string{
	Boolean:  "BOOLEAN",
	String:   "STRING",
	Int:      "INT",
	Long:     "LONG",
	Double:   "DOUBLE",
	List:     "LIST",
	Class:    "CLASS",
	Password: "PASSWORD",
}

// String returns the type's name as Kafka prints it ("INT", "LIST"), which is
// also the "type" field of Connect's REST ConfigKeyInfo.
func (t Type) String() string {
	if t < 0 || int(t) >= len(typeNames) {
		return "Type(" + strconv.Itoa(int(t)) + ")"
	}
	return typeNames[t]
}

func (t Type) valid() bool { return t >= 0 && int(t) < len(typeNames) }

// Importance says how likely a user is to need to set a key, Kafka's
// ConfigDef.Importance.
type Importance int

// The importance levels, in Kafka's order.
const (
	High Importance = iota
	Medium
	Low
)

var importanceNames = [...]string{High: "HIGH", Medium: "MEDIUM", Low: "LOW"}

// String returns "HIGH", "MEDIUM" or "LOW", as Kafka prints them.
func (i Importance) String() string {
	if i < 0 || int(i) >= len(importanceNames) {
		return "Importance(" + strconv.Itoa(int(i)) + ")"
	}
	return importanceNames[i]
}

func (i Importance) valid() bool { return i >= 0 && int(i) < len(importanceNames) }

// Width is a hint for how wide a UI field for the value should be, Kafka's
// ConfigDef.Width. Nothing in Sluice enforces it.
type Width int

// The widths, in Kafka's order. WidthNone is the zero value, as Kafka's
// short define methods use Width.NONE.
const (
	WidthNone Width = iota
	WidthShort
	WidthMedium
	WidthLong
)

var widthNames = [...]string{WidthNone: "NONE", WidthShort: "SHORT", WidthMedium: "MEDIUM", WidthLong: "LONG"}

// String returns "NONE", "SHORT", "MEDIUM" or "LONG", as Kafka prints them.
func (w Width) String() string {
	if w < 0 || int(w) >= len(widthNames) {
		return "Width(" + strconv.Itoa(int(w)) + ")"
	}
	return widthNames[w]
}

func (w Width) valid() bool { return w >= 0 && int(w) < len(widthNames) }

// Secret is the value of a Password key, Kafka's
// org.apache.kafka.common.config.types.Password. (It cannot be called
// Password in Go, as that is the Type constant.) Every way of printing or
// encoding it (fmt, log/slog, encoding/json) shows "[hidden]"; only Value
// returns the secret.
type Secret string

// hidden is what Kafka prints for a password, Password.HIDDEN.
const hidden = "[hidden]"

// Value returns the secret itself. Never log it.
func (s Secret) Value() string { return string(s) }

// String returns "[hidden]", so that %s and %v never print the secret.
func (s Secret) String() string { return hidden }

// GoString returns a hidden form for %#v.
func (s Secret) GoString() string { return `config.Secret("` + hidden + `")` }

// MarshalJSON encodes the secret as the JSON string "[hidden]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + hidden + `"`), nil }

// LogValue makes log/slog print "[hidden]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(hidden) }

// parseString parses raw, a value as a user wrote it, into the Go
// representation of t. Like Kafka's ConfigDef.parseType it trims the value
// first (Java's String.trim, which drops ASCII control characters and spaces)
// for every type, STRING and PASSWORD included. The error is the reason only;
// the caller wraps it with the key name and raw value.
func parseString(t Type, raw string) (any, error) {
	s := javaTrim(raw)
	switch t {
	case Boolean:
		switch {
		case strings.EqualFold(s, "true"):
			return true, nil
		case strings.EqualFold(s, "false"):
			return false, nil
		}
		return nil, reasonError("Expected value to be either true or false")
	case String:
		return s, nil
	case Int:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, notANumber(t)
		}
		return int(n), nil
	case Long:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, notANumber(t)
		}
		return n, nil
	case Double:
		f, err := parseJavaDouble(s)
		if err != nil {
			return nil, notANumber(t)
		}
		return f, nil
	case List:
		if s == "" {
			return []string{}, nil
		}
		// Kafka splits on "\s*,\s*" keeping empty items, so "a,,b" has three.
		items := strings.Split(s, ",")
		for i, item := range items {
			items[i] = strings.TrimFunc(item, isJavaRegexSpace)
		}
		return items, nil
	case Class:
		// Kafka loads the class here; Sluice plugins are Go values, so the
		// name is only checked for being present.
		if s == "" {
			return nil, reasonError("Class " + raw + " could not be found.")
		}
		return s, nil
	case Password:
		return Secret(s), nil
	}
	panic(fmt.Sprintf("config: unknown type %v", t))
}

// parseDefault turns a declared default into the Go representation of t.
// Strings are parsed as a user's value would be; values that already have
// the right Go type (or a lossless numeric one) are accepted as they are,
// as Kafka's parseType accepts typed defaults.
func parseDefault(t Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		return parseString(t, s)
	}
	switch t {
	case Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case Int:
		switch n := v.(type) {
		case int:
			if n >= math.MinInt32 && n <= math.MaxInt32 {
				return n, nil
			}
			return nil, notANumber(t)
		case int32:
			return int(n), nil
		}
	case Long:
		switch n := v.(type) {
		case int:
			return int64(n), nil
		case int32:
			return int64(n), nil
		case int64:
			return n, nil
		}
	case Double:
		switch n := v.(type) {
		case float64:
			return n, nil
		case float32:
			return float64(n), nil
		case int:
			return float64(n), nil
		case int64:
			return float64(n), nil
		}
	case List:
		if l, ok := v.([]string); ok {
			return append([]string{}, l...), nil
		}
	case Password:
		if p, ok := v.(Secret); ok {
			return p, nil
		}
	}
	return nil, reasonError(fmt.Sprintf("Expected a value of type %v, but it was a %T", t, v))
}

// formatValue renders a parsed value of type t as a string, Kafka's
// ConfigDef.convertToString: lists are joined with ",", passwords are
// "[hidden]", doubles print as Java prints them, and null is nil.
func formatValue(t Type, v any) *string {
	if v == nil {
		return nil
	}
	var s string
	switch t {
	case List:
		if l, ok := v.([]string); ok {
			s = strings.Join(l, ",")
			break
		}
		s = javaString(v)
	default:
		s = javaString(v)
	}
	return &s
}

// javaString renders a Go value the way Java's toString renders the
// corresponding Kafka value, for messages such as "Invalid value [a, b] for
// configuration x".
func javaString(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case Secret:
		return hidden
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return string(data.AppendJavaFloat(nil, v, 64))
	case []string:
		return "[" + strings.Join(v, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// parseJavaDouble parses s as Java's Double.parseDouble does for the forms a
// user writes. Go's ParseFloat also accepts "inf" and "nan" in any case,
// which Java does not; only Java's spellings "Infinity" and "NaN" pass here.
func parseJavaDouble(s string) (float64, error) {
	unsigned := strings.TrimLeft(s, "+-")
	if strings.ContainsAny(unsigned, "iInN") && unsigned != "Infinity" && unsigned != "NaN" {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(s, 64)
}

// javaTrim is Java's String.trim: it drops every character up to and
// including the space from both ends.
func javaTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}

// isJavaRegexSpace reports whether r is in Java's regex class \s.
func isJavaRegexSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\x0B', '\f', '\r':
		return true
	}
	return false
}

// reasonError is the reason part of an "Invalid value" message.
type reasonError string

func (e reasonError) Error() string { return string(e) }

func notANumber(t Type) error { return reasonError("Not a number of type " + t.String()) }
