package sink

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
)

// RawValueWriter is an optional Format capability: its RecordWriters take
// records whose Value is a *connect.RawValue (see connect.RawValueSink).
type RawValueWriter interface {
	WritesRawValues() bool
}

var _ RawValueWriter = (*ParquetFormat)(nil)

// WritesRawValues reports that Parquet writers take *connect.RawValue
// values: those of the schemaless JsonConverter are written straight from
// their bytes into the columns (writeRaw), any other is decoded first.
func (f *ParquetFormat) WritesRawValues() bool { return true }

// rawJSON reports whether v's bytes are schemaless JSON, which writeRaw
// reads.
func rawJSON(v *connect.RawValue) bool {
	c, ok := v.Converter.(*converter.JSONConverter)
	return ok && !c.SchemasEnabled()
}

// writeRaw writes the schemaless JSON object b into the columns of a
// schemaless file, appending exactly the entries that shredding the value
// JsonConverter.ToConnectData reads from b would append. It reports false,
// having appended something or not, when b holds what it leaves to the
// general path: a key given twice, a key outside the file's schema with
// a value other than null, a value
// that does not plainly fit its column (which the general path may still
// write as a null, or refuse as a schema change), an array, or bad
// syntax. The caller then rolls the row back and writes the decoded value.
func (w *ParquetWriter) writeRaw(b []byte) bool {
	w.scan.Reset(b)
	return w.rawStruct(w.ls.root, 0)
}

// rawStruct writes the object at the scanner into struct node n's
// columns, as shredStruct writes a map[string]any.
func (w *ParquetWriter) rawStruct(n *node, rl int32) bool {
	sc := &w.scan
	if sc.BeginObject() != nil {
		return false
	}
	w.stamp++
	stamp := w.stamp
	for pos := 0; ; pos++ {
		key, more, err := sc.NextKey(pos == 0)
		if err != nil {
			return false
		}
		if !more {
			break
		}
		f := n.fieldAt(pos, key)
		if f == nil && sc.Peek() == 'n' {
			// A null outside the schema fits, as in shredStruct.
			if sc.Null() != nil {
				return false
			}
			continue
		}
		if f == nil || f.seen == stamp {
			return false
		}
		f.seen = stamp
		if !w.rawField(f, rl, n.def) {
			return false
		}
	}
	for _, f := range n.fields {
		if f.seen != stamp {
			// A missing field is a null, as a missing map key.
			if !f.optional {
				return false
			}
			w.nulls(f, rl, n.def)
		}
	}
	return true
}

// fieldAt returns n's field named key, the pos-th key of the object being
// read, or nil. The fields' positions in the last object read are tried
// first: a topic's objects mostly list their keys in the same order.
func (n *node) fieldAt(pos int, key []byte) *node {
	if pos < len(n.order) {
		if f := n.fields[n.order[pos]]; f.name == string(key) {
			return f
		}
	}
	i := 0
	for i < len(n.fields) && n.fields[i].name != string(key) {
		i++
	}
	if i == len(n.fields) {
		return nil
	}
	if pos < len(n.order) {
		n.order[pos] = i
	} else if pos == len(n.order) {
		n.order = append(n.order, i)
	}
	return n.fields[i]
}

// rawField writes the value at the scanner as field f (reached at
// definition level dl), as shred writes the decoded value.
func (w *ParquetWriter) rawField(f *node, rl, dl int32) bool {
	sc := &w.scan
	c := sc.Peek()
	if c == 'n' {
		if !f.optional || sc.Null() != nil {
			return false
		}
		w.nulls(f, rl, dl)
		return true
	}
	switch f.kind {
	case kindStruct:
		return c == '{' && w.rawStruct(f, rl)
	case kindLeaf:
	default:
		return false
	}
	col := f.col
	size := 0
	switch {
	case f.leaf == leafString && c == '"':
		start := len(col.bytes)
		var err error
		if col.bytes, err = sc.AppendString(col.bytes); err != nil {
			return false
		}
		col.ends = append(col.ends, len(col.bytes))
		size = len(col.bytes) - start
	case f.leaf == leafBool && (c == 't' || c == 'f'):
		v, err := sc.Bool()
		if err != nil {
			return false
		}
		col.bools = append(col.bools, v)
		size = 1
	case (f.leaf == leafInt64 || f.leaf == leafFloat64) && (c == '-' || c >= '0' && c <= '9'):
		i, x, integral, err := sc.Number()
		switch {
		case err != nil:
			return false
		case f.leaf == leafInt64 && integral:
			col.i64 = append(col.i64, i)
		case f.leaf == leafInt64:
			return false // a fraction in an INT64 column: a schema change
		case integral:
			// An integral number fits a DOUBLE column of a schemaless file.
			col.f64 = append(col.f64, float64(i))
		default:
			col.f64 = append(col.f64, x)
		}
		size = 8
	default:
		return false
	}
	col.defs = append(col.defs, f.def)
	col.reps = append(col.reps, rl)
	w.batchBytes += size + entryOverhead
	return true
}
