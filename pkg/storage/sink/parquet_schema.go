package sink

import (
	"fmt"
	"strconv"

	"github.com/xitongsys/parquet-go/common"
	pq "github.com/xitongsys/parquet-go/parquet"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// DefaultParquetRootName is the name of the Parquet message for a schema without
// a name: the full name AvroData gives such a record
// (io.confluent.connect.avro.ConnectDefault), which parquet-avro then uses
// as the message name.
const DefaultParquetRootName = "io.confluent.connect.avro.ConnectDefault"

// DecimalPrecisionParam is the Connect schema parameter that carries a
// Decimal's precision, as AvroData reads it. Without it the precision is
// DefaultDecimalPrecision.
const DecimalPrecisionParam = "connect.decimal.precision"

// DefaultDecimalPrecision is AvroData's precision for a Decimal schema
// without DecimalPrecisionParam.
const DefaultDecimalPrecision = 64

type nodeKind uint8

const (
	kindLeaf nodeKind = iota
	kindStruct
	kindList
	kindMap
)

// leafType says how a Connect value becomes a Parquet value.
type leafType uint8

const (
	leafBool leafType = iota
	leafInt8
	leafInt16
	leafInt32
	leafInt64
	leafFloat32
	leafFloat64
	leafString
	leafBytes
	leafDecimal
	leafDate
	leafTime
	leafTimestamp
)

// node is one element of the Parquet schema, with what shredding needs:
// the definition level reached when the node is present, the repetition
// level of its repeated group (lists, maps), and the leaf columns below it.
type node struct {
	name     string
	kind     nodeKind
	leaf     leafType
	schema   *data.Schema
	optional bool
	// def is the definition level when this node is present; for lists and
	// maps, def+1 is the level of an element or entry.
	def int32
	// rep is, for lists and maps, the repetition level of their elements.
	rep int32
	// fields are a struct's fields, a list's element or a map's key and value.
	fields []*node
	// scale is a Decimal's scale.
	scale int32
	// col is a leaf's column; first and last bound the leaf columns below
	// the node (first inclusive, last exclusive).
	col         *column
	first, last int
}

// layoutSchema is a Connect STRUCT schema mapped to Parquet: the schema
// elements in depth-first order, the tree that shreds values into columns,
// and the columns in schema order.
type layoutSchema struct {
	elements []*pq.SchemaElement
	root     *node
	cols     []*column
	// leafElems are the indexes in elements of each column's element.
	leafElems []int
}

// buildParquetSchema maps a Connect STRUCT schema to Parquet as Confluent's
// ParquetFormat does through AvroData and parquet-avro (see parquet_doc.go
// for the table).
func buildParquetSchema(s *data.Schema) (*layoutSchema, error) {
	if s == nil || s.Type != data.TypeStruct {
		return nil, &data.Error{Msg: fmt.Sprintf("parquet: the record value's schema must be a STRUCT, not %v", s)}
	}
	if len(s.Fields) == 0 {
		return nil, &data.Error{Msg: "parquet: a STRUCT schema without fields cannot be written as Parquet"}
	}
	// A Parquet schema is a finite tree of columns, so a recursive schema
	// (a recursive Avro record's) has none. Confluent's ParquetFormat
	// fails too: parquet-avro's AvroSchemaConverter recurses into the
	// record's fields until the JVM's stack overflows.
	if err := data.RecursiveError(s, "parquet"); err != nil {
		return nil, &data.Error{Msg: err.Error() + "; write such records with the AvroFormat or the JsonFormat"}
	}
	name := s.Name
	if name == "" {
		name = DefaultParquetRootName
	}
	ls := &layoutSchema{}
	rootElem := &pq.SchemaElement{Name: name}
	ls.elements = append(ls.elements, rootElem)
	root := &node{name: name, kind: kindStruct, schema: s}
	if err := ls.addFields(root, rootElem, s, 0, 0, name); err != nil {
		return nil, err
	}
	root.first, root.last = 0, len(ls.cols)
	ls.root = root
	return ls, nil
}

func (ls *layoutSchema) addFields(parent *node, parentElem *pq.SchemaElement, s *data.Schema, def, rep int32, path string) error {
	seen := make(map[string]string, len(s.Fields))
	for _, f := range s.Fields {
		// The library keys columns by a Go-identifier form of each name;
		// two names with the same form would share a column.
		in := common.StringToVariableName(f.Name)
		if other, dup := seen[in]; dup {
			return &data.Error{Field: f.Name, Msg: fmt.Sprintf("parquet: fields %q and %q of %s cannot both be written", other, f.Name, path)}
		}
		seen[in] = f.Name
		child, err := ls.addNode(f.Name, f.Schema, def, rep, path+"."+f.Name)
		if err != nil {
			return err
		}
		parent.fields = append(parent.fields, child)
	}
	parentElem.NumChildren = ptr(int32(len(parent.fields)))
	return nil
}

func repetition(optional bool) *pq.FieldRepetitionType {
	if optional {
		return ptr(pq.FieldRepetitionType_OPTIONAL)
	}
	return ptr(pq.FieldRepetitionType_REQUIRED)
}

func ptr[T any](v T) *T { return &v }

// addNode appends the elements of one field (or list element, map key or
// value) of schema s, reached at definition level def and repetition level
// rep, and returns its node.
func (ls *layoutSchema) addNode(name string, s *data.Schema, def, rep int32, path string) (*node, error) {
	if s == nil {
		return nil, &data.Error{Msg: "parquet: " + path + " has no schema"}
	}
	n := &node{name: name, schema: s, optional: s.Optional, first: len(ls.cols)}
	if s.Optional {
		def++
	}
	n.def = def
	elem := &pq.SchemaElement{Name: name, RepetitionType: repetition(s.Optional)}
	ls.elements = append(ls.elements, elem)
	switch s.Type {
	case data.TypeStruct:
		if len(s.Fields) == 0 {
			return nil, &data.Error{Msg: "parquet: " + path + " is a STRUCT without fields, which Parquet cannot represent"}
		}
		n.kind = kindStruct
		if err := ls.addFields(n, elem, s, def, rep, path); err != nil {
			return nil, err
		}
	case data.TypeArray:
		// The standard three-level list: <r> group name (LIST) { repeated
		// group list { <r> element } }.
		n.kind = kindList
		n.rep = rep + 1
		elem.ConvertedType = ptr(pq.ConvertedType_LIST)
		elem.LogicalType = &pq.LogicalType{LIST: pq.NewListType()}
		elem.NumChildren = ptr(int32(1))
		ls.elements = append(ls.elements, &pq.SchemaElement{
			Name: "list", RepetitionType: ptr(pq.FieldRepetitionType_REPEATED), NumChildren: ptr(int32(1)),
		})
		child, err := ls.addNode("element", s.ValueSchema, def+1, rep+1, path+"[]")
		if err != nil {
			return nil, err
		}
		n.fields = []*node{child}
	case data.TypeMap:
		// <r> group name (MAP) { repeated group key_value { required key;
		// <r> value } }, as parquet-avro writes Avro maps.
		n.kind = kindMap
		n.rep = rep + 1
		elem.ConvertedType = ptr(pq.ConvertedType_MAP)
		elem.LogicalType = &pq.LogicalType{MAP: pq.NewMapType()}
		elem.NumChildren = ptr(int32(1))
		ls.elements = append(ls.elements, &pq.SchemaElement{
			Name: "key_value", RepetitionType: ptr(pq.FieldRepetitionType_REPEATED), NumChildren: ptr(int32(2)),
		})
		if s.KeySchema == nil || !s.KeySchema.Type.Primitive() {
			return nil, &data.Error{Msg: fmt.Sprintf("parquet: %s: map keys must be of a primitive type, not %v", path, s.KeySchema)}
		}
		// Parquet map keys are required whatever the Connect schema says.
		keySchema := *s.KeySchema
		keySchema.Optional = false
		key, err := ls.addNode("key", &keySchema, def+1, rep+1, path+".key")
		if err != nil {
			return nil, err
		}
		value, err := ls.addNode("value", s.ValueSchema, def+1, rep+1, path+".value")
		if err != nil {
			return nil, err
		}
		n.fields = []*node{key, value}
	default:
		if err := setLeaf(n, elem, s, path); err != nil {
			return nil, err
		}
		n.col = &column{elem: elem, maxDef: def, maxRep: rep, index: len(ls.cols)}
		ls.cols = append(ls.cols, n.col)
		ls.leafElems = append(ls.leafElems, len(ls.elements)-1)
	}
	n.last = len(ls.cols)
	return n, nil
}

// setLeaf sets a primitive element's physical and logical types.
func setLeaf(n *node, elem *pq.SchemaElement, s *data.Schema, path string) error {
	n.kind = kindLeaf
	physical := func(t pq.Type) { elem.Type = ptr(t) }
	switch s.Name {
	case data.DecimalName:
		if s.Type != data.TypeBytes {
			break
		}
		scale, err := data.DecimalScale(s)
		if err != nil {
			return err
		}
		precision := int32(DefaultDecimalPrecision)
		if p, ok := s.Parameters[DecimalPrecisionParam]; ok {
			v, err := strconv.ParseInt(p, 10, 32)
			if err != nil || v < 1 {
				return &data.Error{Msg: fmt.Sprintf("parquet: %s: invalid %s %q", path, DecimalPrecisionParam, p)}
			}
			precision = int32(v)
		}
		if scale < 0 || scale > precision {
			return &data.Error{Msg: fmt.Sprintf("parquet: %s: decimal scale %d is outside [0, precision %d]", path, scale, precision)}
		}
		n.leaf, n.scale = leafDecimal, scale
		physical(pq.Type_BYTE_ARRAY)
		elem.ConvertedType = ptr(pq.ConvertedType_DECIMAL)
		elem.Scale, elem.Precision = ptr(scale), ptr(precision)
		elem.LogicalType = &pq.LogicalType{DECIMAL: &pq.DecimalType{Scale: scale, Precision: precision}}
		return nil
	case data.DateName:
		if s.Type != data.TypeInt32 {
			break
		}
		n.leaf = leafDate
		physical(pq.Type_INT32)
		elem.ConvertedType = ptr(pq.ConvertedType_DATE)
		elem.LogicalType = &pq.LogicalType{DATE: pq.NewDateType()}
		return nil
	case data.TimeName:
		if s.Type != data.TypeInt32 {
			break
		}
		n.leaf = leafTime
		physical(pq.Type_INT32)
		elem.ConvertedType = ptr(pq.ConvertedType_TIME_MILLIS)
		elem.LogicalType = &pq.LogicalType{TIME: &pq.TimeType{IsAdjustedToUTC: true, Unit: &pq.TimeUnit{MILLIS: pq.NewMilliSeconds()}}}
		return nil
	case data.TimestampName:
		if s.Type != data.TypeInt64 {
			break
		}
		n.leaf = leafTimestamp
		physical(pq.Type_INT64)
		elem.ConvertedType = ptr(pq.ConvertedType_TIMESTAMP_MILLIS)
		elem.LogicalType = &pq.LogicalType{TIMESTAMP: &pq.TimestampType{IsAdjustedToUTC: true, Unit: &pq.TimeUnit{MILLIS: pq.NewMilliSeconds()}}}
		return nil
	}
	switch s.Type {
	case data.TypeBoolean:
		n.leaf = leafBool
		physical(pq.Type_BOOLEAN)
	case data.TypeInt8, data.TypeInt16:
		n.leaf, elem.ConvertedType = leafInt8, ptr(pq.ConvertedType_INT_8)
		width := int8(8)
		if s.Type == data.TypeInt16 {
			n.leaf, elem.ConvertedType, width = leafInt16, ptr(pq.ConvertedType_INT_16), 16
		}
		physical(pq.Type_INT32)
		elem.LogicalType = &pq.LogicalType{INTEGER: &pq.IntType{BitWidth: width, IsSigned: true}}
	case data.TypeInt32:
		n.leaf = leafInt32
		physical(pq.Type_INT32)
	case data.TypeInt64:
		n.leaf = leafInt64
		physical(pq.Type_INT64)
	case data.TypeFloat32:
		n.leaf = leafFloat32
		physical(pq.Type_FLOAT)
	case data.TypeFloat64:
		n.leaf = leafFloat64
		physical(pq.Type_DOUBLE)
	case data.TypeString:
		n.leaf = leafString
		physical(pq.Type_BYTE_ARRAY)
		elem.ConvertedType = ptr(pq.ConvertedType_UTF8)
		elem.LogicalType = &pq.LogicalType{STRING: pq.NewStringType()}
	case data.TypeBytes:
		n.leaf = leafBytes
		physical(pq.Type_BYTE_ARRAY)
	default:
		return &data.Error{Msg: fmt.Sprintf("parquet: %s: unsupported schema type %q", path, s.Type)}
	}
	return nil
}
