package jsonschema

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/big"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// JSON Schema keywords Confluent's JsonSchemaData reads and writes besides
// the standard ones.
const (
	connectTypeProp       = "connect.type"
	connectIndexProp      = "connect.index"
	connectVersionProp    = "connect.version"
	connectParametersProp = "connect.parameters"
	// OneOfName is the Connect STRUCT a oneOf other than [null, T] becomes.
	OneOfName = "io.confluent.connect.json.OneOf"
)

// schemaCtx resolves references: local ones ("#/definitions/x",
// "#/$defs/x") in the document being mapped (root), and those naming
// another schema ("address.json", "address.json#/definitions/x") in refs,
// the schemas of the root schema's registry references by reference name.
type schemaCtx struct {
	root  any
	refs  map[string]any
	depth int
}

// resolve returns the document ref points into and its target.
func (c *schemaCtx) resolve(ref string) (doc, target any, err error) {
	base, frag, _ := strings.Cut(ref, "#")
	doc = c.root
	if base != "" {
		var ok bool
		if doc, ok = c.lookup(base); !ok {
			return nil, nil, fmt.Errorf("reference %q names no schema reference of the schema", ref)
		}
	}
	cur := doc
	for _, part := range strings.Split(frag, "/") {
		if part == "" {
			continue
		}
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		o, ok := cur.(*object)
		if !ok {
			return nil, nil, fmt.Errorf("reference %q does not resolve", ref)
		}
		if cur, ok = o.get(part); !ok {
			return nil, nil, fmt.Errorf("reference %q does not resolve", ref)
		}
	}
	return doc, cur, nil
}

// lookup finds the referenced schema that base names: by its reference
// name, or by the URL base resolves to against the current document's $id.
func (c *schemaCtx) lookup(base string) (any, bool) {
	if d, ok := c.refs[base]; ok {
		return d, true
	}
	o, _ := c.root.(*object)
	if o == nil || o.str("$id") == "" {
		return nil, false
	}
	id, err := url.Parse(o.str("$id"))
	if err != nil {
		return nil, false
	}
	want, err := id.Parse(base)
	if err != nil {
		return nil, false
	}
	for name, d := range c.refs {
		if u, err := id.Parse(name); err == nil && u.String() == want.String() {
			return d, true
		}
	}
	return nil, false
}

// toConnect maps a JSON schema to a Connect schema as Confluent's
// JsonSchemaData.toConnectSchema: objects with properties are STRUCTs named
// after their title, fields in connect.index or text order, those not
// "required" optional; objects with additionalProperties (or
// connect.type map) MAPs; integer INT64 and number FLOAT64 unless
// connect.type narrows them; a oneOf/anyOf of null and one schema (or a
// type list with null) an optional schema.
func (c *schemaCtx) toConnect(s any, optional bool) (*data.Schema, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > 64 {
		return nil, fmt.Errorf("schema nests too deep (recursive references are not supported)")
	}
	o, ok := s.(*object)
	if !ok {
		return nil, fmt.Errorf("unsupported schema %v", s)
	}
	if ref := o.str("$ref"); ref != "" {
		doc, target, err := c.resolve(ref)
		if err != nil {
			return nil, err
		}
		// The target's own local references are into its document.
		saved := c.root
		c.root = doc
		defer func() { c.root = saved }()
		return c.toConnect(target, optional)
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if v, ok := o.get(k); ok {
			members, _ := v.([]any)
			var nonNull []any
			hasNull := false
			for _, m := range members {
				if mo, ok := m.(*object); ok && mo.str("type") == "null" {
					hasNull = true
					continue
				}
				nonNull = append(nonNull, m)
			}
			if len(nonNull) == 1 {
				return c.toConnect(nonNull[0], optional || hasNull)
			}
			b := data.StructBuilder().Name(OneOfName)
			if optional || hasNull {
				b.Optional()
			}
			for i, m := range nonNull {
				fs, err := c.toConnect(m, true)
				if err != nil {
					return nil, err
				}
				b.Field(OneOfName+".field."+strconv.Itoa(i), fs)
			}
			return b.Build()
		}
	}
	typ := o.str("type")
	if v, ok := o.get("type"); ok {
		if list, ok := v.([]any); ok {
			for _, t := range list {
				switch ts, _ := t.(string); ts {
				case "null":
					optional = true
				default:
					typ = ts
				}
			}
		}
	}
	ct := o.str(connectTypeProp)
	var b *data.SchemaBuilder
	title := o.str("title")
	switch typ {
	case "integer":
		switch {
		case title == data.DateName:
			b = data.DateSchema()
		case title == data.TimeName:
			b = data.TimeSchema()
		case title == data.TimestampName:
			b = data.TimestampSchema()
		case ct == "int8":
			b = data.NewBuilder(data.TypeInt8)
		case ct == "int16":
			b = data.NewBuilder(data.TypeInt16)
		case ct == "int32":
			b = data.NewBuilder(data.TypeInt32)
		default:
			b = data.NewBuilder(data.TypeInt64)
		}
	case "number":
		switch {
		case title == data.DecimalName:
			scale := int32(0)
			if p, ok := o.get(connectParametersProp); ok {
				if po, ok := p.(*object); ok {
					n, _ := strconv.Atoi(po.str(data.DecimalScaleParam))
					scale = int32(n)
				}
			}
			b = data.DecimalSchema(scale)
		case ct == "float32":
			b = data.NewBuilder(data.TypeFloat32)
		default:
			b = data.NewBuilder(data.TypeFloat64)
		}
	case "boolean":
		b = data.NewBuilder(data.TypeBoolean)
	case "string":
		if ct == "bytes" {
			b = data.NewBuilder(data.TypeBytes)
		} else {
			b = data.NewBuilder(data.TypeString)
		}
	case "array":
		items, _ := o.get("items")
		if ct == "map" {
			io, _ := items.(*object)
			props, _ := io.get("properties")
			po, _ := props.(*object)
			ks, _ := po.get("key")
			vs, _ := po.get("value")
			k, err := c.toConnect(ks, false)
			if err != nil {
				return nil, err
			}
			v, err := c.toConnect(vs, false)
			if err != nil {
				return nil, err
			}
			b = data.MapBuilder(k, v)
			break
		}
		if items == nil {
			return nil, fmt.Errorf("an array schema without items is not supported")
		}
		e, err := c.toConnect(items, false)
		if err != nil {
			return nil, err
		}
		b = data.ArrayBuilder(e)
	case "object", "":
		props, hasProps := o.get("properties")
		ap, hasAP := o.get("additionalProperties")
		if apo, ok := ap.(*object); ok && (!hasProps || ct == "map") {
			v, err := c.toConnect(apo, false)
			if err != nil {
				return nil, err
			}
			b = data.MapBuilder(data.StringSchema, v)
			break
		}
		_ = hasAP
		if !hasProps && typ == "" {
			return nil, fmt.Errorf("a schema without a type is not supported")
		}
		b = data.StructBuilder()
		if title != "" {
			b.Name(title)
		}
		po, _ := props.(*object)
		required := map[string]bool{}
		if r, ok := o.get("required"); ok {
			rl, _ := r.([]any)
			for _, n := range rl {
				if s, ok := n.(string); ok {
					required[s] = true
				}
			}
		}
		names := slices.Clone(po.keysOrNil())
		slices.SortStableFunc(names, func(a, b string) int { return index(po, a) - index(po, b) })
		for _, name := range names {
			ps, _ := po.get(name)
			fs, err := c.toConnect(ps, !required[name])
			if err != nil {
				return nil, fmt.Errorf("property %s: %w", name, err)
			}
			b.Field(name, fs)
		}
	default:
		return nil, fmt.Errorf("unsupported type %q", typ)
	}
	if v, ok := o.get(connectVersionProp); ok {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil && b != nil && !data.IsLogical(&data.Schema{Type: typeOf(b), Name: title}) {
				b.Version(int32(i))
			}
		}
	}
	if d := o.str("description"); d != "" {
		b.Doc(d)
	}
	if p, ok := o.get(connectParametersProp); ok && title != data.DecimalName {
		if po, ok := p.(*object); ok {
			for _, k := range po.keys {
				b.Parameter(k, po.str(k))
			}
		}
	}
	if optional {
		b.Optional()
	}
	if d, ok := o.get("default"); ok && d != nil {
		tmp, err := b.Build()
		if err != nil {
			return nil, err
		}
		dv, err := toConnectValue(tmp, d)
		if err != nil {
			return nil, fmt.Errorf("default: %w", err)
		}
		b.Default(dv)
	}
	return b.Build()
}

func typeOf(b *data.SchemaBuilder) data.Type {
	s, err := b.Build()
	if err != nil {
		return ""
	}
	return s.Type
}

func (o *object) keysOrNil() []string {
	if o == nil {
		return nil
	}
	return o.keys
}

// index is a property's connect.index, or its position in the text.
func index(po *object, name string) int {
	ps, _ := po.get(name)
	if pso, ok := ps.(*object); ok {
		if n, ok := pso.vals[connectIndexProp].(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				return int(i)
			}
		}
	}
	return slices.Index(po.keys, name)
}

// toConnectValue converts a parsed JSON value to a Connect value of s.
func toConnectValue(s *data.Schema, v any) (any, error) {
	if v == nil {
		if s.Optional {
			return nil, nil
		}
		if s.Default != nil {
			return s.Default, nil
		}
		return nil, fmt.Errorf("null for the required schema %s", s)
	}
	switch s.Type {
	case data.TypeStruct:
		o, ok := v.(*object)
		if !ok {
			return nil, fmt.Errorf("expected an object, got %T", v)
		}
		st := data.NewStruct(s)
		if s.Name == OneOfName {
			// The first member the value fits.
			for _, f := range s.Fields {
				if cv, err := toConnectValue(f.Schema, v); err == nil {
					return st, st.Put(f.Name, cv)
				}
			}
			return nil, fmt.Errorf("the value fits no member of the oneOf")
		}
		for _, f := range s.Fields {
			fv, present := o.get(f.Name)
			if !present {
				fv = nil
			}
			cv, err := toConnectValue(f.Schema, fv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			if cv != nil {
				if err := st.Put(f.Name, cv); err != nil {
					return nil, err
				}
			}
		}
		return st, nil
	case data.TypeArray:
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("expected an array, got %T", v)
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			cv, err := toConnectValue(s.ValueSchema, e)
			if err != nil {
				return nil, err
			}
			out[i] = cv
		}
		return out, nil
	case data.TypeMap:
		out := map[any]any{}
		switch x := v.(type) {
		case *object:
			for _, k := range x.keys {
				cv, err := toConnectValue(s.ValueSchema, x.vals[k])
				if err != nil {
					return nil, err
				}
				out[k] = cv
			}
		case []any:
			for _, e := range x {
				eo, _ := e.(*object)
				kv, _ := eo.get("key")
				vv, _ := eo.get("value")
				ck, err := toConnectValue(s.KeySchema, kv)
				if err != nil {
					return nil, err
				}
				cv, err := toConnectValue(s.ValueSchema, vv)
				if err != nil {
					return nil, err
				}
				out[ck] = cv
			}
		default:
			return nil, fmt.Errorf("expected an object, got %T", v)
		}
		return out, nil
	case data.TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("expected a boolean, got %T", v)
		}
		return b, nil
	case data.TypeString:
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("expected a string, got %T", v)
		}
		return str, nil
	case data.TypeBytes:
		if s.Name == data.DecimalName {
			n, ok := v.(json.Number)
			if !ok {
				return nil, fmt.Errorf("expected a number, got %T", v)
			}
			d, err := data.ParseDecimal(n.String())
			if err != nil {
				return nil, err
			}
			scale, _ := data.DecimalScale(s)
			return d.Rescale(scale)
		}
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("expected a base64 string, got %T", v)
		}
		return base64.StdEncoding.DecodeString(str)
	}
	n, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("expected a number, got %T", v)
	}
	switch s.Type {
	case data.TypeFloat32, data.TypeFloat64:
		f, err := n.Float64()
		if err != nil {
			return nil, err
		}
		if s.Type == data.TypeFloat32 {
			return float32(f), nil
		}
		return f, nil
	}
	i, err := n.Int64()
	if err != nil {
		return nil, fmt.Errorf("expected an integer, got %s", n)
	}
	switch s.Name {
	case data.DateName:
		return time.UnixMilli(i * 86400000).UTC(), nil
	case data.TimeName, data.TimestampName:
		return time.UnixMilli(i).UTC(), nil
	}
	switch s.Type {
	case data.TypeInt8:
		if i < math.MinInt8 || i > math.MaxInt8 {
			return nil, fmt.Errorf("%d does not fit INT8", i)
		}
		return int8(i), nil
	case data.TypeInt16:
		if i < math.MinInt16 || i > math.MaxInt16 {
			return nil, fmt.Errorf("%d does not fit INT16", i)
		}
		return int16(i), nil
	case data.TypeInt32:
		if i < math.MinInt32 || i > math.MaxInt32 {
			return nil, fmt.Errorf("%d does not fit INT32", i)
		}
		return int32(i), nil
	}
	return i, nil
}

// ---- Connect to JSON Schema ----

type kv struct {
	k string
	v any
}

// obj is an ordered JSON object for writing.
type obj []kv

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// fromConnect renders the JSON schema of a Connect schema as Confluent's
// JsonSchemaData.fromConnectSchema does.
func fromConnect(s *data.Schema, idx int) (obj, error) {
	var o obj
	switch s.Type {
	case data.TypeInt8, data.TypeInt16, data.TypeInt32, data.TypeInt64:
		o = obj{{"type", "integer"}, {connectTypeProp, string(s.Type)}}
	case data.TypeFloat32, data.TypeFloat64:
		o = obj{{"type", "number"}, {connectTypeProp, string(s.Type)}}
	case data.TypeBoolean:
		o = obj{{"type", "boolean"}}
	case data.TypeString:
		o = obj{{"type", "string"}}
	case data.TypeBytes:
		if s.Name == data.DecimalName {
			o = obj{{"type", "number"}}
		} else {
			o = obj{{"type", "string"}, {connectTypeProp, "bytes"}}
		}
	case data.TypeArray:
		items, err := fromConnect(s.ValueSchema, -1)
		if err != nil {
			return nil, err
		}
		o = obj{{"type", "array"}, {"items", items}}
	case data.TypeMap:
		v, err := fromConnect(s.ValueSchema, -1)
		if err != nil {
			return nil, err
		}
		if s.KeySchema.Type == data.TypeString && !s.KeySchema.Optional {
			o = obj{{"type", "object"}, {"additionalProperties", v}, {connectTypeProp, "map"}}
		} else {
			k, err := fromConnect(s.KeySchema, -1)
			if err != nil {
				return nil, err
			}
			o = obj{{"type", "array"}, {"items", obj{{"type", "object"}, {"properties", obj{{"key", k}, {"value", v}}}}}, {connectTypeProp, "map"}}
		}
	case data.TypeStruct:
		if s.Name == OneOfName {
			var members []any
			if s.Optional {
				members = append(members, obj{{"type", "null"}})
			}
			for _, f := range s.Fields {
				fs := *f.Schema
				fs.Optional = false
				m, err := fromConnect(&fs, -1)
				if err != nil {
					return nil, err
				}
				members = append(members, m)
			}
			return obj{{"oneOf", members}}, nil
		}
		props := obj{}
		var required []string
		for _, f := range s.Fields {
			fs, err := fromConnect(f.Schema, f.Index)
			if err != nil {
				return nil, err
			}
			props = append(props, kv{f.Name, fs})
			if !f.Schema.Optional {
				required = append(required, f.Name)
			}
		}
		o = obj{{"type", "object"}}
		if s.Name != "" {
			o = append(o, kv{"title", s.Name})
		}
		o = append(o, kv{"properties", props})
		if len(required) > 0 {
			o = append(o, kv{"required", required})
		}
	default:
		return nil, fmt.Errorf("unsupported Connect type %s", s.Type)
	}
	if s.Name != "" && s.Type != data.TypeStruct {
		o = append(o, kv{"title", s.Name})
	}
	if s.Version != nil {
		o = append(o, kv{connectVersionProp, *s.Version})
	}
	if s.Doc != "" {
		o = append(o, kv{"description", s.Doc})
	}
	if len(s.Parameters) > 0 {
		p := obj{}
		for _, k := range slices.Sorted(maps.Keys(s.Parameters)) {
			p = append(p, kv{k, s.Parameters[k]})
		}
		o = append(o, kv{connectParametersProp, p})
	}
	if s.Default != nil {
		var b bytes.Buffer
		if err := appendValue(&b, s, s.Default); err != nil {
			return nil, err
		}
		o = append(o, kv{"default", json.RawMessage(b.Bytes())})
	}
	if idx >= 0 {
		o = append(o, kv{connectIndexProp, idx})
	}
	if s.Optional {
		return obj{{"oneOf", []any{obj{{"type", "null"}}, o}}}, nil
	}
	return o, nil
}

// appendValue writes v, a Connect value of s, as JSON.
func appendValue(b *bytes.Buffer, s *data.Schema, v any) error {
	if v == nil {
		if s.Default != nil {
			v = s.Default
		} else {
			b.WriteString("null")
			return nil
		}
	}
	switch s.Type {
	case data.TypeStruct:
		st, ok := v.(*data.Struct)
		if !ok {
			return fmt.Errorf("a STRUCT value is a %T", v)
		}
		if s.Name == OneOfName {
			for _, f := range s.Fields {
				if fv := st.GetWithoutDefault(f.Name); fv != nil {
					return appendValue(b, f.Schema, fv)
				}
			}
			b.WriteString("null")
			return nil
		}
		b.WriteByte('{')
		for i, f := range s.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(f.Name)
			b.Write(k)
			b.WriteByte(':')
			var fv any
			if st.Schema().Field(f.Name) != nil {
				fv = st.Get(f.Name)
			}
			if err := appendValue(b, f.Schema, fv); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
		}
		b.WriteByte('}')
		return nil
	case data.TypeArray:
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("an ARRAY value is a %T", v)
		}
		b.WriteByte('[')
		for i, e := range arr {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := appendValue(b, s.ValueSchema, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case data.TypeMap:
		var keys []any
		get := func(any) any { return nil }
		switch m := v.(type) {
		case map[any]any:
			for k := range m {
				keys = append(keys, k)
			}
			get = func(k any) any { return m[k] }
		case map[string]any:
			for k := range m {
				keys = append(keys, k)
			}
			get = func(k any) any { return m[k.(string)] }
		default:
			return fmt.Errorf("a MAP value is a %T", v)
		}
		slices.SortFunc(keys, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		stringKeys := s.KeySchema.Type == data.TypeString && !s.KeySchema.Optional
		if stringKeys {
			b.WriteByte('{')
		} else {
			b.WriteByte('[')
		}
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if stringKeys {
				kb, _ := json.Marshal(k)
				b.Write(kb)
				b.WriteByte(':')
			} else {
				b.WriteString(`{"key":`)
				if err := appendValue(b, s.KeySchema, k); err != nil {
					return err
				}
				b.WriteString(`,"value":`)
			}
			if err := appendValue(b, s.ValueSchema, get(k)); err != nil {
				return err
			}
			if !stringKeys {
				b.WriteByte('}')
			}
		}
		if stringKeys {
			b.WriteByte('}')
		} else {
			b.WriteByte(']')
		}
		return nil
	}
	if data.IsLogical(s) {
		switch x := v.(type) {
		case data.Decimal:
			b.WriteString(x.String())
			return nil
		case time.Time:
			raw, err := data.FromLogical(s, x)
			if err != nil {
				return err
			}
			fmt.Fprint(b, raw)
			return nil
		}
		return fmt.Errorf("a %s value is a %T", s.Name, v)
	}
	switch x := v.(type) {
	case []byte:
		out, _ := json.Marshal(base64.StdEncoding.EncodeToString(x))
		b.Write(out)
	case float32:
		b.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%v cannot be written as JSON", x)
		}
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case string, bool, int8, int16, int32, int64, int:
		out, _ := json.Marshal(x)
		b.Write(out)
	case *big.Int:
		b.WriteString(x.String())
	default:
		return fmt.Errorf("a %s value is a %T", s.Type, v)
	}
	return nil
}
