package transforms

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Helpers shared by the field transformations (InsertField, ReplaceField,
// MaskField, ValueToKey, ExtractField, HoistField, Cast, Flatten,
// SetSchemaMetadata).

// fieldClassPrefix is the Java package of Connect's built-in transforms.
const fieldClassPrefix = "org.apache.kafka.connect.transforms."

// keyValuePlugins returns the $Key and $Value variants of a transformation,
// as Connect's nested Key and Value classes.
func keyValuePlugins(simple string, newT func(target) connect.Transformation) []connect.Plugin {
	return []connect.Plugin{
		{
			Class:             fieldClassPrefix + simple + "$Key",
			Kind:              connect.KindTransformation,
			Version:           fieldVersion,
			NewTransformation: func() connect.Transformation { return newT(keyTarget) },
		},
		{
			Class:             fieldClassPrefix + simple + "$Value",
			Kind:              connect.KindTransformation,
			Version:           fieldVersion,
			NewTransformation: func() connect.Transformation { return newT(valueTarget) },
		},
	}
}

// replaceNullWithDefaultConfig is KIP-1040's key, shared by several
// transformations with the same default and documentation.
const replaceNullWithDefaultConfig = "replace.null.with.default"

// defineReplaceNullWithDefault adds replace.null.with.default (BOOLEAN,
// default true) to d.
func defineReplaceNullWithDefault(d *config.Def) *config.Def {
	return d.Define(config.Key{
		Name: replaceNullWithDefaultConfig, Type: config.Boolean, Default: true, Importance: config.Medium,
		Doc: "Whether to replace fields that have a default value and that are null to the default value. " +
			"When set to true, the default value is used, otherwise null is used.",
	})
}

// structField reads a field as Connect's transforms do with
// replace.null.with.default: Struct.get (falling back to the field's
// default) when withDefault, Struct.getWithoutDefault otherwise.
func structField(s *data.Struct, name string, withDefault bool) any {
	if withDefault {
		return s.Get(name)
	}
	return s.GetWithoutDefault(name)
}

// nonEmptyList is Connect's NonEmptyListValidator: it rejects a null or
// empty list with "Empty list".
var nonEmptyList = config.LambdaValidator(func(name string, value any) error {
	if l, _ := value.([]string); len(l) == 0 {
		return config.InvalidValue(name, value, "Empty list")
	}
	return nil
}, "non-empty list")

// requireSchema is Connect's Requirements.requireSchema.
func requireSchema(s *data.Schema, purpose string) error {
	if s == nil {
		return fmt.Errorf("Schema required for [%s]", purpose)
	}
	return nil
}

// javaSplit is Java's String.split with a literal separator: trailing
// empty strings are removed ("a:" splits into ["a"]), which Connect's
// "field:type" and "old:new" parsers rely on.
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) == 0 && s == "" {
		// "".split(":") is [""] in Java.
		return []string{""}
	}
	return parts
}

// javaClass renders a value's type as Java's Class.toString does in
// Connect's messages ("class java.lang.String").
func javaClass(v any) string {
	switch v.(type) {
	case time.Time:
		return "class java.util.Date"
	case data.Decimal:
		return "class java.math.BigDecimal"
	case []byte:
		return "class [B"
	}
	return "class " + className(v)
}

// upperType spells a schema type as Java's Schema.Type enum prints.
func upperType(t data.Type) string { return strings.ToUpper(string(t)) }

// javaDecimalString is Java's BigDecimal.toString: plain notation unless
// the scale is negative or the adjusted exponent is below -6, then
// scientific notation ("1E+3", "1.23E-8").
func javaDecimalString(d data.Decimal) string {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	digits := new(big.Int).Abs(u).String()
	sign := ""
	if u.Sign() < 0 {
		sign = "-"
	}
	adjusted := -int64(d.Scale) + int64(len(digits)-1)
	if d.Scale >= 0 && adjusted >= -6 {
		return d.String()
	}
	s := sign + digits[:1]
	if len(digits) > 1 {
		s += "." + digits[1:]
	}
	s += "E"
	if adjusted >= 0 {
		s += "+"
	}
	return s + strconv.FormatInt(adjusted, 10)
}

// javaDateString is Connect's Values.dateFormatFor(date).format(date): a
// time of day before the first day is "HH:mm:ss.SSS'Z'", a whole day is
// "yyyy-MM-dd", anything else "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'". Sluice formats
// in UTC (Connect uses the JVM's default time zone).
func javaDateString(t time.Time) string {
	ms := t.UnixMilli()
	t = t.UTC()
	switch {
	case ms < msPerDay:
		return t.Format("15:04:05.000Z")
	case ms%msPerDay == 0:
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

const msPerDay = 24 * 60 * 60 * 1000
