package transforms

import (
	"fmt"
	"maps"
	"math/big"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// MaskField is Connect's MaskField$Key and MaskField$Value: it replaces
// the listed fields with the null value of their type (0, false, "", an
// empty list or map, the epoch) or, for numeric and string fields, with the
// configured replacement converted to the field's type. A null key or value
// passes through unchanged. Configure before Apply; use from one goroutine
// at a time.
type MaskField struct {
	target target

	fields                 []string
	replacement            *string
	replaceNullWithDefault bool
}

const maskFieldPurpose = "mask fields"

var maskFieldDef = defineReplaceNullWithDefault(config.NewDef().
	Define(config.Key{Name: "fields", Type: config.List, Default: config.NoDefault, Validator: nonEmptyList,
		Importance: config.High, Doc: "Names of fields to mask."}).
	Define(config.Key{Name: "replacement", Type: config.String, Validator: config.NonEmptyString(),
		Importance: config.Low, Doc: "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only)."}))

func newMaskField(t target) connect.Transformation { return &MaskField{target: t} }

// Config returns MaskField's keys.
func (*MaskField) Config() *config.Def { return maskFieldDef }

// Configure reads the keys.
func (x *MaskField) Configure(props map[string]string) error {
	vals, err := maskFieldDef.Parse(props)
	if err != nil {
		return err
	}
	x.fields = vals.List("fields")
	x.replacement = nil
	if s, ok := vals.Get("replacement").(string); ok {
		x.replacement = &s
	}
	x.replaceNullWithDefault = vals.Bool(replaceNullWithDefaultConfig)
	return nil
}

// Apply masks the fields.
func (x *MaskField) Apply(r *connect.TransformRecord) (bool, error) {
	schema, v := x.target.get(r)
	if v == nil {
		return true, nil
	}
	if schema == nil {
		m, err := requireMap(v, maskFieldPurpose)
		if err != nil {
			return true, err
		}
		updated := maps.Clone(m)
		for _, f := range x.fields {
			masked, err := x.masked(m[f], nil)
			if err != nil {
				return true, err
			}
			updated[f] = masked
		}
		x.target.set(r, nil, updated)
		return true, nil
	}
	value, err := requireStruct(v, maskFieldPurpose)
	if err != nil {
		return true, err
	}
	updated := data.NewStruct(value.Schema())
	for _, f := range value.Schema().Fields {
		fv := structField(value, f.Name, x.replaceNullWithDefault)
		if x.isMasked(f.Name) {
			if fv, err = x.masked(fv, f.Schema); err != nil {
				return true, err
			}
		}
		if err := updated.Put(f.Name, fv); err != nil {
			return true, err
		}
	}
	x.target.set(r, value.Schema(), updated)
	return true, nil
}

func (x *MaskField) isMasked(name string) bool {
	for _, f := range x.fields {
		if f == name {
			return true
		}
	}
	return false
}

// masked returns the masked form of v; schema, when known, gives a
// Decimal's scale.
func (x *MaskField) masked(v any, schema *data.Schema) (any, error) {
	if v == nil {
		return nil, nil
	}
	if x.replacement == nil {
		return maskWithNullValue(v, schema)
	}
	return maskWithReplacement(v, *x.replacement)
}

func maskWithNullValue(v any, schema *data.Schema) (any, error) {
	switch v.(type) {
	case bool:
		return false, nil
	case int8:
		return int8(0), nil
	case int16:
		return int16(0), nil
	case int32:
		return int32(0), nil
	case int64:
		return int64(0), nil
	case float32:
		return float32(0), nil
	case float64:
		return float64(0), nil
	case data.Decimal:
		// Connect uses BigDecimal.ZERO (scale 0); Sluice keeps the field's
		// scale so that the value still encodes with its Decimal schema.
		var scale int32
		if schema != nil {
			scale, _ = data.DecimalScale(schema)
		}
		return data.Decimal{Unscaled: new(big.Int), Scale: scale}, nil
	case time.Time:
		return time.UnixMilli(0).UTC(), nil
	case string:
		return "", nil
	case []any:
		return []any{}, nil
	case map[string]any:
		return map[string]any{}, nil
	case map[any]any:
		return map[any]any{}, nil
	}
	return nil, fmt.Errorf("Cannot mask value of type: %s", javaClass(v))
}

func maskWithReplacement(v any, replacement string) (any, error) {
	numberErr := func() error {
		return fmt.Errorf("Unable to convert %s (class java.lang.String) to number", replacement)
	}
	switch v.(type) {
	case string:
		return replacement, nil
	case data.Decimal:
		d, err := data.ParseDecimal(replacement)
		if err != nil {
			return nil, numberErr()
		}
		return d, nil
	case int8, int16, int32, int64:
		// Connect's Values.convertToLong: new BigDecimal(s).longValue(),
		// then narrowed as Java casts.
		d, err := data.ParseDecimal(replacement)
		if err != nil {
			return nil, numberErr()
		}
		n := decimalLong(d)
		switch v.(type) {
		case int8:
			return int8(n), nil
		case int16:
			return int16(n), nil
		case int32:
			return int32(n), nil
		}
		return n, nil
	case float32, float64:
		d, err := data.ParseDecimal(replacement)
		if err != nil {
			return nil, numberErr()
		}
		if _, ok := v.(float32); ok {
			return float32(d.Float64()), nil
		}
		return d.Float64(), nil
	}
	return nil, fmt.Errorf("Cannot mask value of type %s with custom replacement.", javaClass(v))
}

// decimalLong is BigDecimal.longValue: the integer part, truncated towards
// zero, keeping its low 64 bits.
func decimalLong(d data.Decimal) int64 {
	r := d.Rat()
	q := new(big.Int).Quo(r.Num(), r.Denom())
	// Low 64 bits in two's complement, as BigInteger.longValue.
	mod := new(big.Int).And(q, new(big.Int).SetUint64(^uint64(0)))
	return int64(mod.Uint64())
}

// Close does nothing.
func (*MaskField) Close() error { return nil }
