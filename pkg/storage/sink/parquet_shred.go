package sink

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// entryOverhead is what the batch size counts for one buffered column
// entry besides its value's bytes (it was an interface value and two
// levels when columns buffered interface values). Batches end where the
// count reaches the batch size, and pages with them: changing it changes
// the files written.
const entryOverhead = 24

// shred appends value v of node n to the columns below n (Dremel's
// record shredding): rl is the repetition level of the entry and dl the
// definition level reached by n's parent. A mismatch between v and n is a
// *data.Error, or ErrSchemaChanged for a schemaless writer; the caller
// then rolls the columns back to the start of the row.
func (w *ParquetWriter) shred(n *node, v any, rl, dl int32) error {
	if v == nil {
		if !n.optional {
			return w.mismatch(n, v, "null value for a required field")
		}
		w.nulls(n, rl, dl)
		return nil
	}
	switch n.kind {
	case kindLeaf:
		pv, size, ok := w.convert(n, v)
		if !ok {
			if w.schemaless && untyped(v) {
				// An empty array or object where a value is expected is a null.
				w.nulls(n, rl, dl)
				return nil
			}
			return w.mismatch(n, v, "")
		}
		c := n.col
		c.appendValue(pv)
		c.defs = append(c.defs, n.def)
		c.reps = append(c.reps, rl)
		w.batchBytes += size + entryOverhead
		return nil
	case kindStruct:
		return w.shredStruct(n, v, rl)
	case kindList:
		arr, ok := v.([]any)
		if !ok {
			return w.mismatch(n, v, "")
		}
		if len(arr) == 0 {
			w.nulls(n, rl, n.def)
			return nil
		}
		elem := n.fields[0]
		for i, e := range arr {
			r := rl
			if i > 0 {
				r = n.rep
			}
			if err := w.shred(elem, e, r, n.def+1); err != nil {
				return err
			}
		}
		return nil
	case kindMap:
		return w.shredMap(n, v, rl)
	}
	return fmt.Errorf("parquet: unknown node kind %d", n.kind)
}

func (w *ParquetWriter) shredStruct(n *node, v any, rl int32) error {
	switch sv := v.(type) {
	case *data.Struct:
		for _, f := range n.fields {
			if err := w.shred(f, sv.Get(f.name), rl, n.def); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		if !w.schemaless {
			return w.mismatch(n, v, "")
		}
		found := 0
		for _, f := range n.fields {
			fv, ok := sv[f.name]
			if ok {
				found++
			}
			if err := w.shred(f, fv, rl, n.def); err != nil {
				return err
			}
		}
		if found < len(sv) {
			// Keys outside the schema fit only when they carry no typed value.
			for k, fv := range sv {
				if !untyped(fv) && !hasField(n, k) {
					return fmt.Errorf("parquet: %w: field %q is not in the file's schema", ErrSchemaChanged, k)
				}
			}
		}
		return nil
	}
	return w.mismatch(n, v, "")
}

func hasField(n *node, name string) bool {
	for _, f := range n.fields {
		if f.name == name {
			return true
		}
	}
	return false
}

// shredMap writes a map's entries in ascending key order, so that the same
// map always gives the same bytes.
func (w *ParquetWriter) shredMap(n *node, v any, rl int32) error {
	key, value := n.fields[0], n.fields[1]
	write := func(i int, k, e any) error {
		r := rl
		if i > 0 {
			r = n.rep
		}
		if err := w.shred(key, k, r, n.def+1); err != nil {
			return err
		}
		return w.shred(value, e, r, n.def+1)
	}
	switch m := v.(type) {
	case map[string]any:
		if len(m) == 0 {
			w.nulls(n, rl, n.def)
			return nil
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if err := write(i, k, m[k]); err != nil {
				return err
			}
		}
		return nil
	case map[any]any:
		if len(m) == 0 {
			w.nulls(n, rl, n.def)
			return nil
		}
		keys := make([]any, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareKeys)
		for i, k := range keys {
			if err := write(i, k, m[k]); err != nil {
				return err
			}
		}
		return nil
	}
	return w.mismatch(n, v, "")
}

// compareKeys orders map keys of one primitive type.
func compareKeys(a, b any) int {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return cmp.Compare(x, y)
		}
	case int8:
		if y, ok := b.(int8); ok {
			return cmp.Compare(x, y)
		}
	case int16:
		if y, ok := b.(int16); ok {
			return cmp.Compare(x, y)
		}
	case int32:
		if y, ok := b.(int32); ok {
			return cmp.Compare(x, y)
		}
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
	case float32:
		if y, ok := b.(float32); ok {
			return cmp.Compare(x, y)
		}
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}
	}
	return cmp.Compare(fmt.Sprintf("%T:%v", a, a), fmt.Sprintf("%T:%v", b, b))
}

// nulls appends a null (or empty list or map) at definition level dl to
// every column below n.
func (w *ParquetWriter) nulls(n *node, rl, dl int32) {
	for _, c := range w.ls.cols[n.first:n.last] {
		c.defs = append(c.defs, dl)
		c.reps = append(c.reps, rl)
	}
	w.batchBytes += entryOverhead * (n.last - n.first)
}

// convert returns v as the Go value the Parquet library writes for n's
// column (int32, int64, float32, float64, bool, or string for byte arrays)
// and its size in bytes. Values that already have that type are passed on
// as they are, without allocating.
func (w *ParquetWriter) convert(n *node, v any) (any, int, bool) {
	switch n.leaf {
	case leafBool:
		if _, ok := v.(bool); ok {
			return v, 1, true
		}
	case leafInt8:
		if x, ok := v.(int8); ok {
			return int32(x), 4, true
		}
	case leafInt16:
		if x, ok := v.(int16); ok {
			return int32(x), 4, true
		}
	case leafInt32:
		if _, ok := v.(int32); ok {
			return v, 4, true
		}
	case leafInt64:
		if _, ok := v.(int64); ok {
			return v, 8, true
		}
	case leafFloat32:
		if _, ok := v.(float32); ok {
			return v, 4, true
		}
	case leafFloat64:
		switch x := v.(type) {
		case float64:
			return v, 8, true
		case int64:
			// Schemaless JSON numbers: an integral value fits a DOUBLE column.
			if w.schemaless {
				return float64(x), 8, true
			}
		}
	case leafString:
		if s, ok := v.(string); ok {
			return v, len(s), true
		}
	case leafBytes:
		if b, ok := v.([]byte); ok {
			return string(b), len(b), true
		}
	case leafDecimal:
		d, ok := v.(data.Decimal)
		if !ok {
			return nil, 0, false
		}
		if d.Scale != n.scale {
			// AvroData rescales nothing either: a mismatching scale is an error.
			return nil, 0, false
		}
		b, err := data.FromLogical(n.schema, d)
		if err != nil {
			return nil, 0, false
		}
		s := string(b.([]byte))
		return s, len(s), true
	case leafDate:
		if t, ok := v.(time.Time); ok {
			ms := t.UnixMilli()
			if ms%msPerDay != 0 || t.Nanosecond()%int(time.Millisecond) != 0 {
				return nil, 0, false
			}
			return int32(ms / msPerDay), 4, true
		}
	case leafTime:
		if t, ok := v.(time.Time); ok {
			ms := t.UnixMilli()
			if ms < 0 || ms >= msPerDay {
				return nil, 0, false
			}
			return int32(ms), 4, true
		}
	case leafTimestamp:
		if t, ok := v.(time.Time); ok {
			return t.UnixMilli(), 8, true
		}
	}
	return nil, 0, false
}

const msPerDay = 24 * 60 * 60 * 1000

// mismatch reports a value that does not fit node n: a schema change for
// a schemaless writer (its schema was inferred from an earlier record), a
// data error otherwise.
func (w *ParquetWriter) mismatch(n *node, v any, why string) error {
	if why == "" {
		why = fmt.Sprintf("a %T does not fit %v", v, n.schema)
	}
	if w.schemaless {
		return fmt.Errorf("parquet: %w: field %q: %s", ErrSchemaChanged, n.name, why)
	}
	return &data.Error{Field: n.name, Msg: "parquet: field " + n.name + ": " + why}
}
