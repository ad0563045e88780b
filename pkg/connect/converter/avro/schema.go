package avro

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	tavro "github.com/twmb/avro"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// schema is a parsed Avro schema: its tree and its named types by full
// name (a field may refer to a type defined earlier by name).
type schema struct {
	root *tavro.SchemaNode
	defs map[string]*tavro.SchemaNode
}

// parse parses an Avro schema's JSON text with github.com/twmb/avro.
func parse(text string) (*schema, error) {
	s, err := tavro.Parse(text)
	if err != nil {
		return nil, err
	}
	sc := &schema{root: s.Root(), defs: map[string]*tavro.SchemaNode{}}
	sc.collect(sc.root)
	return sc, nil
}

func fullName(n *tavro.SchemaNode) string {
	if strings.Contains(n.Name, ".") || n.Namespace == "" {
		return n.Name
	}
	return n.Namespace + "." + n.Name
}

func (sc *schema) collect(n *tavro.SchemaNode) {
	switch n.Type {
	case "record", "error", "enum", "fixed":
		if n.Name != "" {
			if _, dup := sc.defs[fullName(n)]; !dup {
				sc.defs[fullName(n)] = n
			}
		}
	}
	for i := range n.Fields {
		sc.collect(&n.Fields[i].Type)
	}
	if n.Items != nil {
		sc.collect(n.Items)
	}
	if n.Values != nil {
		sc.collect(n.Values)
	}
	for i := range n.Branches {
		sc.collect(&n.Branches[i])
	}
}

// resolve returns the definition a name reference points at, or n.
func (sc *schema) resolve(n *tavro.SchemaNode) *tavro.SchemaNode {
	switch n.Type {
	case "null", "boolean", "int", "long", "float", "double", "bytes", "string",
		"record", "error", "enum", "fixed", "array", "map", "union":
		return n
	}
	if d, ok := sc.defs[n.Type]; ok {
		return d
	}
	if n.Namespace != "" {
		if d, ok := sc.defs[n.Namespace+"."+n.Type]; ok {
			return d
		}
	}
	for name, d := range sc.defs {
		if strings.HasSuffix(name, "."+n.Type) {
			return d
		}
	}
	return n
}

// toConnect compiles an Avro schema into a node, mapping it as Confluent's
// AvroData.toConnectSchema. version, when positive, is the registry's
// version of the top-level schema and becomes its Connect version unless
// the schema carries connect.version.
func (c *options) toConnect(sc *schema, version int) (*node, error) {
	n, err := c.toConnectNode(sc, sc.root, false, nil, "", version, &compiling{open: map[string][]*openRecord{}})
	if err != nil {
		return nil, &data.Error{Msg: "Avro schema not supported: " + err.Error()}
	}
	return n, nil
}

func propString(s *tavro.SchemaNode, name string) string {
	v, _ := s.Props[name].(string)
	return v
}

func numberProp(s *tavro.SchemaNode, name string) (int64, bool) {
	switch v := s.Props[name].(type) {
	case float64:
		return int64(v), true
	case int64:
		return v, true
	case int:
		return int64(v), true
	case json.Number:
		i, err := v.Int64()
		return i, err == nil
	}
	return 0, false
}

func (c *options) toConnectNode(sc *schema, s *tavro.SchemaNode, forceOptional bool, fieldDefault any, fieldDoc string, version int, open *compiling) (*node, error) {
	s = sc.resolve(s)
	direct := open.direct
	open.direct = false
	n := &node{}
	var b *data.SchemaBuilder
	lt := s.LogicalType
	switch s.Type {
	case "boolean":
		n.kind, b = kBool, data.NewBuilder(data.TypeBoolean)
	case "bytes", "fixed":
		if lt == "decimal" {
			n.kind, n.scale = kDecimal, int32(s.Scale)
			b = data.DecimalSchema(int32(s.Scale))
			if s.Precision != defaultPrecision {
				b.Parameter(DecimalPrecisionParam, strconv.Itoa(s.Precision))
			}
			if s.Type == "fixed" {
				n.size = s.Size
			}
		} else if s.Type == "fixed" {
			n.kind, n.size = kFixed, s.Size
			b = data.NewBuilder(data.TypeBytes).Parameter(FixedSizeParam, strconv.Itoa(s.Size))
		} else {
			n.kind, b = kBytes, data.NewBuilder(data.TypeBytes)
		}
	case "double":
		n.kind, b = kFloat64, data.NewBuilder(data.TypeFloat64)
	case "float":
		n.kind, b = kFloat32, data.NewBuilder(data.TypeFloat32)
	case "int":
		switch {
		case lt == "date":
			n.kind, b = kDate, data.DateSchema()
		case lt == "time-millis":
			n.kind, b = kTimeMillis, data.TimeSchema()
		case lt == "" && propString(s, connectTypeProp) == "int8":
			n.kind, b = kInt8, data.NewBuilder(data.TypeInt8)
		case lt == "" && propString(s, connectTypeProp) == "int16":
			n.kind, b = kInt16, data.NewBuilder(data.TypeInt16)
		default:
			n.kind, b = kInt32, data.NewBuilder(data.TypeInt32)
		}
	case "long":
		switch lt {
		case "timestamp-millis":
			n.kind, b = kTimestampMillis, data.TimestampSchema()
		case "time-micros":
			n.kind, b = kTimeMicro, data.NewBuilder(data.TypeInt64)
		case "timestamp-micros":
			n.kind, b = kTSMicro, data.NewBuilder(data.TypeInt64)
		default:
			n.kind, b = kInt64, data.NewBuilder(data.TypeInt64)
		}
	case "string":
		n.kind, b = kString, data.NewBuilder(data.TypeString)
	case "array":
		open.breaks++
		defer func() { open.breaks-- }()
		elem := sc.resolve(s.Items)
		if (elem.Type == "record" || elem.Type == "error") && isMapEntry(elem) {
			if len(elem.Fields) != 2 || elem.Fields[0].Name != "key" || elem.Fields[1].Name != "value" {
				return nil, fmt.Errorf("Found map encoded as array of key-value pairs, but array elements do not match the expected format.")
			}
			k, err := c.toConnectNode(sc, &elem.Fields[0].Type, false, nil, "", 0, open)
			if err != nil {
				return nil, err
			}
			v, err := c.toConnectNode(sc, &elem.Fields[1].Type, false, nil, "", 0, open)
			if err != nil {
				return nil, err
			}
			n.kind, n.key, n.elem = kMapArray, k, v
			b = data.MapBuilder(k.connect, v.connect)
		} else {
			e, err := c.toConnectNode(sc, elem, false, nil, "", 0, open)
			if err != nil {
				return nil, err
			}
			n.kind, n.elem, b = kArray, e, data.ArrayBuilder(e.connect)
		}
	case "map":
		open.breaks++
		defer func() { open.breaks-- }()
		v, err := c.toConnectNode(sc, s.Values, false, nil, "", 0, open)
		if err != nil {
			return nil, err
		}
		n.kind, n.elem, b = kMap, v, data.MapBuilder(data.StringSchema, v.connect)
	case "record", "error":
		full := fullName(s)
		if recs := open.open[full]; len(recs) > 0 {
			rec := recs[len(recs)-1]
			switch {
			case !direct:
				// A record met again inside itself through a union, an
				// array or a map: as Confluent's CyclicSchemaWrapper, a
				// view of the record's schema with its own optionality,
				// filled in once the record is built.
				ref := &node{connect: &data.Schema{}}
				rec.refs = append(rec.refs, cyclicRef{n: ref, optional: forceOptional})
				return ref, nil
			case rec.breaks == open.breaks:
				return nil, fmt.Errorf("recursive record %s refers to itself through required record fields only (field %s), which no finite value fits (make one a union with null, an array or a map)", full, open.field)
			}
			// A record field of a record being compiled, with a union,
			// an array or a map since the record was opened: Confluent's
			// AvroData compiles the record again there (a record field
			// does not close a cycle), and so does this.
		}
		rec := &openRecord{breaks: open.breaks}
		open.open[full] = append(open.open[full], rec)
		defer func() { open.open[full] = open.open[full][:len(open.open[full])-1] }()
		n.kind, b = kStruct, data.StructBuilder()
		for i := range s.Fields {
			f := &s.Fields[i]
			var def any
			if f.HasDefault {
				def = jsonDefault{f.Default}
			}
			open.direct, open.field = true, full+"."+f.Name
			fn, err := c.toConnectNode(sc, &f.Type, false, def, f.Doc, 0, open)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, fn)
			b.Field(f.Name, fn.connect)
		}
		defer rec.resolve(n)
	case "enum":
		n.kind, n.symbols = kEnum, s.Symbols
		b = data.NewBuilder(data.TypeString).Parameter(EnumParam, fullName(s))
		for _, sym := range s.Symbols {
			b.Parameter(EnumParam+"."+sym, sym)
		}
	case "union":
		open.breaks++
		defer func() { open.breaks-- }()
		return c.unionNode(sc, s, fieldDoc, open)
	case "null":
		return nil, fmt.Errorf("Standalone null schemas are not supported by this converter")
	default:
		return nil, fmt.Errorf("unsupported Avro type %q", s.Type)
	}

	// Connect's logical types come with their name and version 1.
	logical := n.kind == kDecimal || n.kind == kDate || n.kind == kTimeMillis || n.kind == kTimestampMillis
	if v, ok := numberProp(s, connectVersionProp); ok && !logical {
		b.Version(int32(v))
	} else if version > 0 && !logical {
		b.Version(int32(version))
	}
	doc := fieldDoc
	if doc == "" {
		doc = s.Doc
	}
	if doc == "" {
		doc = propString(s, connectDocProp)
	}
	if doc != "" {
		b.Doc(doc)
	}
	if c.connectMetaData {
		if params, ok := s.Props[connectParametersProp].(map[string]any); ok {
			for k, v := range params {
				if sv, ok := v.(string); ok {
					b.Parameter(k, sv)
				}
			}
		}
	}
	name := propString(s, connectNameProp)
	if name == "" && (s.Type == "record" || s.Type == "error" || s.Type == "enum" || s.Type == "fixed") {
		name = fullName(s)
	}
	// ConnectDefault, ConnectDefault2, ... name structs that had no
	// Connect name (AvroData checks the prefix too).
	if name != "" && !strings.HasPrefix(name, Namespace+"."+DefaultName) && !logical {
		b.Name(name)
	}
	if forceOptional {
		b.Optional()
	}
	if fieldDefault == nil {
		if d, ok := s.Props[connectDefaultProp]; ok && d != nil {
			fieldDefault = jsonDefault{d}
		}
	}
	if jd, ok := fieldDefault.(jsonDefault); ok && jd.v != nil {
		tmp, err := b.Build()
		if err != nil {
			return nil, err
		}
		dv, err := defaultToConnect(n, tmp, jd.v)
		if err != nil {
			return nil, fmt.Errorf("default value %v: %w", jd.v, err)
		}
		b.Default(dv)
	}
	cs, err := b.Build()
	if err != nil {
		return nil, err
	}
	n.connect = cs
	return n, nil
}

// compiling is the state of one schema's compilation.
type compiling struct {
	// open are the records being compiled, by full name, innermost last.
	open map[string][]*openRecord
	// breaks counts the unions, arrays and maps the node being compiled
	// is inside: the edges through which a record may refer to itself.
	breaks int
	// direct is set for the node of a record field's type, field that
	// field's name (record.field).
	direct bool
	field  string
}

// openRecord is a record being compiled: breaks is compiling.breaks when
// it was opened, refs the references to it from inside itself.
type openRecord struct {
	breaks int
	refs   []cyclicRef
}

// cyclicRef is a reference to a record from inside itself (through a
// union, an array or a map), compiled before the record is complete.
type cyclicRef struct {
	n        *node
	optional bool
}

// resolve fills the references to the record once its node n is
// complete: each is a copy of n whose Connect schema is n's with the
// reference's optionality, sharing n's fields, so that the schema is a
// cycle as Confluent's AvroData makes it.
func (r *openRecord) resolve(n *node) {
	if n.connect == nil {
		return // the record failed to compile
	}
	for _, ref := range r.refs {
		cs := ref.n.connect
		*cs = *n.connect
		cs.Optional = ref.optional
		*ref.n = *n
		ref.n.connect = cs
	}
}

// jsonDefault wraps a default as the schema parser gave it.
type jsonDefault struct{ v any }

func isMapEntry(rec *tavro.SchemaNode) bool {
	return fullName(rec) == Namespace+"."+MapEntryName || propString(rec, connectInternalType) == MapEntryName
}

// unionNode maps an Avro union: [null, T] and [T, null] are an optional T;
// other unions a Connect Union struct with one optional field per
// non-null member, named after the member (its simple name for named
// types, its type otherwise), optional when the union has null.
func (c *options) unionNode(sc *schema, u *tavro.SchemaNode, fieldDoc string, open *compiling) (*node, error) {
	types := u.Branches
	n := &node{nullIdx: -1}
	if len(types) == 2 && (types[0].Type == "null") != (types[1].Type == "null") {
		n.kind = kOptional
		for i := range types {
			if types[i].Type == "null" {
				n.nullIdx = i
				n.branches = append(n.branches, nil)
				continue
			}
			inner, err := c.toConnectNode(sc, &types[i], true, nil, fieldDoc, 0, open)
			if err != nil {
				return nil, err
			}
			n.branches = append(n.branches, inner)
			n.connect = inner.connect
		}
		return n, nil
	}
	n.kind = kUnion
	b := data.StructBuilder().Name(UnionName)
	names := map[string]bool{}
	for i := range types {
		if types[i].Type == "null" {
			n.nullIdx = i
			n.branches = append(n.branches, nil)
			b.Optional()
			continue
		}
		inner, err := c.toConnectNode(sc, &types[i], true, nil, "", 0, open)
		if err != nil {
			return nil, err
		}
		name := unionMemberName(sc.resolve(&types[i]), c.enhanced)
		if names[name] {
			return nil, fmt.Errorf("Multiple union schemas map to the Connect union field name %s", name)
		}
		names[name] = true
		n.branches = append(n.branches, inner)
		b.Field(name, inner.connect)
	}
	cs, err := b.Build()
	if err != nil {
		return nil, err
	}
	n.connect = cs
	return n, nil
}

func unionMemberName(s *tavro.SchemaNode, enhanced bool) string {
	switch s.Type {
	case "record", "error", "enum", "fixed":
		if enhanced {
			return fullName(s)
		}
		_, name := splitName(fullName(s))
		return name
	}
	return s.Type
}
