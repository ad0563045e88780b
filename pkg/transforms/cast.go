package transforms

import (
	"encoding/base64"
	"fmt"
	"maps"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Cast is Connect's Cast$Key and Cast$Value: it casts fields of a Struct
// or map, or the whole key or value, to int8, int16, int32, int64,
// float32, float64, boolean or string. Integers, floats, booleans and
// strings cast to any of these; bytes cast to string (base64); Decimal,
// Date, Time and Timestamp cast to string or, through their underlying
// numbers, to numeric types. A null key or value passes through unchanged.
// Configure before Apply; use from one goroutine at a time.
type Cast struct {
	target target

	casts                  map[string]data.Type
	whole                  data.Type // "" unless the spec is a single type
	replaceNullWithDefault bool
	cache                  schemaCache
}

const castPurpose = "cast types"

var castDef = defineReplaceNullWithDefault(config.NewDef().
	Define(config.Key{Name: "spec", Type: config.List, Default: config.NoDefault, Importance: config.High,
		Doc: "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of " +
			"Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, " +
			"int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string.",
		Validator: config.LambdaValidator(func(name string, value any) error {
			l, _ := value.([]string)
			if len(l) == 0 {
				return fmt.Errorf("Must specify at least one field to cast.")
			}
			_, _, err := parseCastSpec(l)
			return err
		}, "list of colon-delimited pairs, e.g. <code>foo:bar,abc:xyz</code>")}))

// castOutputTypes are the types Cast casts to, in Connect's order.
var castOutputTypes = []data.Type{data.TypeInt8, data.TypeInt16, data.TypeInt32, data.TypeInt64,
	data.TypeFloat32, data.TypeFloat64, data.TypeBoolean, data.TypeString}

// castInputTypes are the types Cast casts from.
var castInputTypes = append(append([]data.Type{}, castOutputTypes...), data.TypeBytes)

func castTypeList(ts []data.Type) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = upperType(t)
	}
	return "[" + strings.Join(names, ", ") + "]"
}

func castOutputType(t data.Type) (data.Type, error) {
	for _, o := range castOutputTypes {
		if o == t {
			return t, nil
		}
	}
	return "", fmt.Errorf("Cast transformation does not support casting to %s; supported types are %s", upperType(t), castTypeList(castOutputTypes))
}

// parseCastType is Schema.Type.valueOf(s.trim().toUpperCase()).
func parseCastType(s string) (data.Type, bool) {
	t := data.Type(strings.ToLower(strings.TrimSpace(s)))
	return t, t.Valid()
}

// parseCastSpec is Connect's Cast.parseFieldTypes: "field:type" pairs, or
// one type for the whole value.
func parseCastSpec(mappings []string) (casts map[string]data.Type, whole data.Type, err error) {
	casts = map[string]data.Type{}
	isWhole := false
	for _, mapping := range mappings {
		parts := javaSplit(mapping, ":")
		switch {
		case len(parts) > 2:
			// Connect reports this against "renames", reusing ReplaceField's message.
			return nil, "", config.InvalidValue("renames", mappings, "Invalid rename mapping: "+mapping)
		case len(parts) == 1:
			t, ok := parseCastType(parts[0])
			if !ok {
				return nil, "", fmt.Errorf("No enum constant org.apache.kafka.connect.data.Schema.Type.%s", strings.ToUpper(strings.TrimSpace(parts[0])))
			}
			if whole, err = castOutputType(t); err != nil {
				return nil, "", err
			}
			isWhole = true
		default:
			t, ok := parseCastType(parts[1])
			if !ok {
				return nil, "", fmt.Errorf("Invalid type found in casting spec: %s", strings.TrimSpace(parts[1]))
			}
			if t, err = castOutputType(t); err != nil {
				return nil, "", err
			}
			casts[strings.TrimSpace(parts[0])] = t
		}
	}
	if isWhole && len(mappings) > 1 {
		return nil, "", fmt.Errorf("Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec")
	}
	return casts, whole, nil
}

func newCast(t target) connect.Transformation { return &Cast{target: t} }

// Config returns Cast's keys.
func (*Cast) Config() *config.Def { return castDef }

// Configure reads the keys.
func (x *Cast) Configure(props map[string]string) error {
	vals, err := castDef.Parse(props)
	if err != nil {
		return err
	}
	if x.casts, x.whole, err = parseCastSpec(vals.List("spec")); err != nil {
		return err
	}
	x.replaceNullWithDefault = vals.Bool(replaceNullWithDefaultConfig)
	x.cache = schemaCache{}
	return nil
}

// Apply casts.
func (x *Cast) Apply(r *connect.TransformRecord) (bool, error) {
	schema, v := x.target.get(r)
	if v == nil {
		return true, nil
	}
	if schema == nil {
		return true, x.applySchemaless(r, v)
	}
	return true, x.applyWithSchema(r, schema, v)
}

func (x *Cast) applySchemaless(r *connect.TransformRecord, v any) error {
	if x.whole != "" {
		out, err := castValue(nil, v, x.whole)
		if err != nil {
			return err
		}
		x.target.set(r, nil, out)
		return nil
	}
	m, err := requireMap(v, castPurpose)
	if err != nil {
		return err
	}
	updated := maps.Clone(m)
	for field, t := range x.casts {
		// Connect puts the cast field even when absent (as null).
		out, err := castValue(nil, m[field], t)
		if err != nil {
			return err
		}
		updated[field] = out
	}
	x.target.set(r, nil, updated)
	return nil
}

func (x *Cast) applyWithSchema(r *connect.TransformRecord, schema *data.Schema, v any) error {
	updatedSchema, err := x.updatedSchema(schema)
	if err != nil {
		return err
	}
	if x.whole != "" {
		out, err := castValue(schema, v, x.whole)
		if err != nil {
			return err
		}
		x.target.set(r, updatedSchema, out)
		return nil
	}
	value, err := requireStruct(v, castPurpose)
	if err != nil {
		return err
	}
	updated := data.NewStruct(updatedSchema)
	for _, f := range value.Schema().Fields {
		fv := structField(value, f.Name, x.replaceNullWithDefault)
		if t, ok := x.casts[f.Name]; ok {
			if fv, err = castValue(f.Schema, fv, t); err != nil {
				return err
			}
		}
		if err := updated.Put(f.Name, fv); err != nil {
			return err
		}
	}
	x.target.set(r, updatedSchema, updated)
	return nil
}

func (x *Cast) updatedSchema(s *data.Schema) (*data.Schema, error) {
	if cached := x.cache.get(s); cached != nil {
		return cached, nil
	}
	var b *data.SchemaBuilder
	if x.whole != "" {
		b = copySchemaBasics(s, data.NewBuilder(x.whole))
	} else {
		if s.Type != data.TypeStruct {
			// Connect fails in Schema.fields() here.
			return nil, fmt.Errorf("Cannot list fields on non-struct type")
		}
		b = copySchemaBasics(s, data.StructBuilder())
		for _, f := range s.Fields {
			t, ok := x.casts[f.Name]
			if !ok {
				b.Field(f.Name, f.Schema)
				continue
			}
			fb := data.NewBuilder(t)
			if f.Schema.Optional {
				fb.Optional()
			}
			if f.Schema.Default != nil {
				def, err := castValue(f.Schema, f.Schema.Default, t)
				if err != nil {
					return nil, err
				}
				fb.Default(def)
			}
			fs, err := fb.Build()
			if err != nil {
				return nil, err
			}
			b.Field(f.Name, fs)
		}
	}
	if s.Optional {
		b.Optional()
	}
	if s.Default != nil {
		target := x.whole
		if target == "" {
			target = data.TypeStruct
		}
		def, err := castValue(s, s.Default, target)
		if err != nil {
			return nil, err
		}
		b.Default(def)
	}
	updated, err := b.Build()
	if err != nil {
		return nil, err
	}
	if data.IsLogical(updated) {
		// Connect copies a Date, Time or Timestamp name onto the int32 or
		// int64 it casts the whole value to, leaving a logical schema with a
		// number that no converter accepts. Sluice drops the logical name.
		plain := *updated
		plain.Name, plain.Version, plain.Parameters = "", nil, nil
		updated = &plain
	}
	x.cache.put(s, updated)
	return updated, nil
}

// Close releases the schema cache.
func (x *Cast) Close() error {
	x.cache = schemaCache{}
	return nil
}

// castValue is Connect's Cast.castValueToType.
func castValue(schema *data.Schema, v any, target data.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	var inferred data.Type
	if schema == nil {
		inferred = data.TypeOf(v)
		if inferred == "" {
			return nil, fmt.Errorf("Cast transformation was passed a value of type %s which is not supported by Connect's data API", javaClass(v))
		}
	} else {
		inferred = schema.Type
	}
	supported := false
	for _, t := range castInputTypes {
		supported = supported || t == inferred
	}
	if !supported {
		return nil, fmt.Errorf("Cast transformation does not support casting from %s; supported types are %s", upperType(inferred), castTypeList(castInputTypes))
	}
	// Date, Time and Timestamp become their underlying numbers, except for
	// strings.
	if schema != nil && target != data.TypeString {
		switch schema.Name {
		case data.DateName, data.TimeName, data.TimestampName:
			encoded, err := data.FromLogical(schema, v)
			if err != nil {
				return nil, err
			}
			v = encoded
		}
	}
	out, err := castTo(v, target)
	if err == errCastRange {
		return nil, fmt.Errorf("Value (%s) was out of range for requested data type", javaToString(v))
	}
	return out, err
}

// errCastRange is Java's NumberFormatException from a parse.
var errCastRange = fmt.Errorf("number format")

// castNumber is a value as Java's Number: an integer, a float or a
// decimal.
type castNumber struct {
	isInt bool
	i     int64
	f     float64
	d     *data.Decimal
}

func asCastNumber(v any) (castNumber, bool) {
	switch n := v.(type) {
	case int8:
		return castNumber{isInt: true, i: int64(n)}, true
	case int16:
		return castNumber{isInt: true, i: int64(n)}, true
	case int32:
		return castNumber{isInt: true, i: int64(n)}, true
	case int64:
		return castNumber{isInt: true, i: n}, true
	case float32:
		return castNumber{f: float64(n)}, true
	case float64:
		return castNumber{f: n}, true
	case data.Decimal:
		return castNumber{d: &n}, true
	}
	return castNumber{}, false
}

// long is Number.longValue (and, narrowed, intValue, shortValue,
// byteValue, which Java computes through int for floats).
func (n castNumber) long(bits int) int64 {
	switch {
	case n.isInt:
		return n.i
	case n.d != nil:
		return decimalLong(*n.d)
	}
	if bits == 64 {
		return javaF2L(n.f)
	}
	return int64(javaF2I(n.f))
}

func (n castNumber) double() float64 {
	switch {
	case n.isInt:
		return float64(n.i)
	case n.d != nil:
		return n.d.Float64()
	}
	return n.f
}

// javaF2L is Java's (long) cast of a double: NaN is 0, out-of-range values
// saturate.
func javaF2L(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// javaF2I is Java's (int) cast of a double.
func javaF2I(f float64) int32 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int32(f)
}

func castTo(v any, target data.Type) (any, error) {
	n, isNumber := asCastNumber(v)
	b, isBool := v.(bool)
	s, isString := v.(string)
	unexpected := func() error { return fmt.Errorf("Unexpected type in Cast transformation: %s", javaClass(v)) }
	boolInt := func() int64 {
		if b {
			return 1
		}
		return 0
	}
	switch target {
	case data.TypeInt8, data.TypeInt16, data.TypeInt32, data.TypeInt64:
		bits := map[data.Type]int{data.TypeInt8: 8, data.TypeInt16: 16, data.TypeInt32: 32, data.TypeInt64: 64}[target]
		var i int64
		switch {
		case isNumber:
			i = n.long(bits)
		case isBool:
			i = boolInt()
		case isString:
			p, err := strconv.ParseInt(s, 10, bits)
			if err != nil || strings.ContainsRune(s, '_') {
				return nil, errCastRange
			}
			i = p
		default:
			return nil, unexpected()
		}
		switch target {
		case data.TypeInt8:
			return int8(i), nil
		case data.TypeInt16:
			return int16(i), nil
		case data.TypeInt32:
			return int32(i), nil
		}
		return i, nil
	case data.TypeFloat32, data.TypeFloat64:
		var f float64
		switch {
		case isNumber:
			f = n.double()
		case isBool:
			f = float64(boolInt())
		case isString:
			p, err := parseJavaFloat(s)
			if err != nil {
				return nil, errCastRange
			}
			f = p
		default:
			return nil, unexpected()
		}
		if target == data.TypeFloat32 {
			return float32(f), nil
		}
		return f, nil
	case data.TypeBoolean:
		switch {
		case isNumber:
			return n.long(64) != 0, nil
		case isBool:
			return b, nil
		case isString:
			return strings.EqualFold(s, "true"), nil
		}
		return nil, unexpected()
	case data.TypeString:
		switch x := v.(type) {
		case time.Time:
			return javaDateString(x), nil
		case []byte:
			return base64.StdEncoding.EncodeToString(x), nil
		}
		return javaToString(v), nil
	}
	return nil, fmt.Errorf("%s is not supported in the Cast transformation.", upperType(target))
}

// parseJavaFloat is Double.parseDouble for decimal forms: surrounding
// whitespace is ignored, a trailing f or d is allowed, and only Java's
// spellings of the special values.
func parseJavaFloat(s string) (float64, error) {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	body := strings.TrimLeft(s, "+-")
	switch body {
	case "NaN", "Infinity":
		return strconv.ParseFloat(s, 64)
	}
	if strings.ContainsAny(body, "iInN_xXpP") {
		return 0, errCastRange
	}
	if l := len(s); l > 1 && strings.ContainsRune("fFdD", rune(s[l-1])) {
		s = s[:l-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return 0, err
	}
	return f, nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// javaToString renders a value as Java's toString does.
func javaToString(v any) string {
	switch x := v.(type) {
	case float64:
		return string(data.AppendJavaFloat(nil, x, 64))
	case float32:
		return string(data.AppendJavaFloat(nil, float64(x), 32))
	case data.Decimal:
		return javaDecimalString(x)
	case *big.Int:
		return x.String()
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}
