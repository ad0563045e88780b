package data

import (
	"fmt"
	"maps"
)

// ProjectorError reports a value that cannot be projected to a schema
// (Connect's SchemaProjectorException).
type ProjectorError struct{ Msg string }

func (e *ProjectorError) Error() string { return e.Msg }

// Project converts value, of schema source, to schema target, as Connect's
// SchemaProjector.project: struct fields are matched by name, fields the
// target lacks are dropped, fields the source lacks take the target's
// default (or null when optional, an error when required without one),
// numbers are promoted (INT8 → INT16 → INT32 → INT64 → FLOAT32 →
// FLOAT64), and names and parameters must be equal.
func Project(source *Schema, value any, target *Schema) (any, error) {
	if err := checkMaybeCompatible(source, target); err != nil {
		return nil, err
	}
	if source.Optional && !target.Optional {
		if target.Default != nil {
			if value == nil {
				return target.Default, nil
			}
			return projectRequired(source, value, target)
		}
		return nil, &ProjectorError{Msg: "Writer schema is optional, however, target schema does not provide a default value."}
	}
	if value == nil {
		return nil, nil
	}
	return projectRequired(source, value, target)
}

func checkMaybeCompatible(source, target *Schema) error {
	switch {
	case source.Type != target.Type && !promotable(source.Type, target.Type):
		return &ProjectorError{Msg: fmt.Sprintf("Schema type mismatch. source type: %s and target type: %s", upper(source.Type), upper(target.Type))}
	case source.Name != target.Name:
		return &ProjectorError{Msg: fmt.Sprintf("Schema name mismatch. source name: %s and target name: %s", source.Name, target.Name)}
	case !maps.Equal(source.Parameters, target.Parameters):
		return &ProjectorError{Msg: fmt.Sprintf("Schema parameters not equal. source parameters: %v and target parameters: %v", source.Parameters, target.Parameters)}
	}
	return nil
}

var promotions = map[Type][]Type{
	TypeInt8:    {TypeInt16, TypeInt32, TypeInt64, TypeFloat32, TypeFloat64},
	TypeInt16:   {TypeInt32, TypeInt64, TypeFloat32, TypeFloat64},
	TypeInt32:   {TypeInt64, TypeFloat32, TypeFloat64},
	TypeInt64:   {TypeFloat32, TypeFloat64},
	TypeFloat32: {TypeFloat64},
}

func promotable(from, to Type) bool {
	for _, t := range promotions[from] {
		if t == to {
			return true
		}
	}
	return false
}

func projectRequired(source *Schema, value any, target *Schema) (any, error) {
	switch target.Type {
	case TypeStruct:
		st, ok := value.(*Struct)
		if !ok {
			return nil, &ProjectorError{Msg: fmt.Sprintf("a STRUCT value is a %T", value)}
		}
		out := NewStruct(target)
		for _, tf := range target.Fields {
			sf := source.Field(tf.Name)
			switch {
			case sf != nil:
				v, err := Project(sf.Schema, st.Get(tf.Name), tf.Schema)
				if err != nil {
					return nil, &ProjectorError{Msg: "Error projecting " + tf.Name + ": " + err.Error()}
				}
				out.values[tf.Index] = v
			case tf.Schema.Optional:
			case tf.Schema.Default != nil:
				out.values[tf.Index] = tf.Schema.Default
			default:
				return nil, &ProjectorError{Msg: fmt.Sprintf("Required field `%s` is missing from source schema: %s", tf.Name, source)}
			}
		}
		return out, nil
	case TypeArray:
		arr, ok := value.([]any)
		if !ok {
			return nil, &ProjectorError{Msg: fmt.Sprintf("an ARRAY value is a %T", value)}
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			v, err := Project(source.ValueSchema, e, target.ValueSchema)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case TypeMap:
		out := map[any]any{}
		put := func(k, v any) error {
			pk, err := Project(source.KeySchema, k, target.KeySchema)
			if err != nil {
				return err
			}
			pv, err := Project(source.ValueSchema, v, target.ValueSchema)
			if err != nil {
				return err
			}
			out[pk] = pv
			return nil
		}
		switch m := value.(type) {
		case map[any]any:
			for k, v := range m {
				if err := put(k, v); err != nil {
					return nil, err
				}
			}
		case map[string]any:
			for k, v := range m {
				if err := put(k, v); err != nil {
					return nil, err
				}
			}
		default:
			return nil, &ProjectorError{Msg: fmt.Sprintf("a MAP value is a %T", value)}
		}
		return out, nil
	}
	if source.Type == target.Type {
		return value, nil
	}
	return promote(value, target.Type)
}

func promote(v any, to Type) (any, error) {
	var f float64
	var i int64
	isInt := true
	switch x := v.(type) {
	case int8:
		i = int64(x)
	case int16:
		i = int64(x)
	case int32:
		i = int64(x)
	case int64:
		i = x
	case float32:
		f, isInt = float64(x), false
	default:
		return nil, &ProjectorError{Msg: fmt.Sprintf("cannot promote a %T to %s", v, upper(to))}
	}
	if isInt {
		f = float64(i)
	}
	switch to {
	case TypeInt16:
		return int16(i), nil
	case TypeInt32:
		return int32(i), nil
	case TypeInt64:
		return i, nil
	case TypeFloat32:
		return float32(f), nil
	case TypeFloat64:
		if !isInt {
			return float64(v.(float32)), nil
		}
		return f, nil
	}
	return nil, &ProjectorError{Msg: fmt.Sprintf("cannot promote a %T to %s", v, upper(to))}
}
