package avro

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// read decodes one value of n from r as a Connect
// value of n.connect. Errors are left in r.err.
func (n *node) read(r *reader) any {
	switch n.kind {
	case kBool:
		return r.boolean()
	case kInt8:
		return int8(r.int())
	case kInt16:
		return int16(r.int())
	case kInt32:
		return r.int()
	case kInt64, kTimeMicro, kTSMicro:
		return r.long()
	case kFloat32:
		return r.float()
	case kFloat64:
		return r.double()
	case kString:
		return r.string()
	case kBytes:
		return r.bytes()
	case kFixed:
		return append([]byte{}, r.fixed(n.size)...)
	case kEnum:
		i := int(r.int())
		if i < 0 || i >= len(n.symbols) {
			r.fail(fmt.Errorf("enum symbol index %d out of range", i))
			return nil
		}
		return n.symbols[i]
	case kDecimal:
		var b []byte
		if n.size > 0 {
			b = r.fixed(n.size)
		} else {
			b = r.bytes()
		}
		return data.Decimal{Unscaled: fromTwos(b), Scale: n.scale}
	case kDate:
		return time.UnixMilli(int64(r.int()) * 86400000).UTC()
	case kTimeMillis:
		return time.UnixMilli(int64(r.int())).UTC()
	case kTimestampMillis:
		return time.UnixMilli(r.long()).UTC()
	case kArray:
		var out []any
		r.blocks(func() { out = append(out, n.elem.read(r)) })
		if out == nil {
			out = []any{}
		}
		return out
	case kMap:
		out := map[any]any{}
		r.blocks(func() {
			k := r.string()
			out[k] = n.elem.read(r)
		})
		return out
	case kMapArray:
		out := map[any]any{}
		r.blocks(func() {
			k := n.key.read(r)
			out[k] = n.elem.read(r)
		})
		return out
	case kStruct:
		// Each value read fits its field by construction (the field's
		// node made it), so it is set without Put's validation, which
		// would walk a nested record's subtree again at every level.
		if r.depth++; r.depth > maxNesting {
			r.fail(fmt.Errorf("records nested more than %d deep", maxNesting))
			return nil
		}
		st := data.NewStruct(n.connect)
		for i, f := range n.fields {
			v := f.read(r)
			if r.err != nil {
				return nil
			}
			st.SetAtUnchecked(n.connect.Fields[i].Index, v)
		}
		r.depth--
		return st
	case kOptional, kUnion:
		i := int(r.long())
		if i < 0 || i >= len(n.branches) {
			r.fail(fmt.Errorf("union branch %d out of range", i))
			return nil
		}
		br := n.branches[i]
		if br == nil {
			return nil
		}
		v := br.read(r)
		if n.kind == kOptional || v == nil || r.err != nil {
			return v
		}
		st := data.NewStruct(n.connect)
		st.SetAtUnchecked(n.connect.Fields[n.unionField(i)].Index, v)
		return st
	}
	r.fail(errors.New("unsupported schema"))
	return nil
}

// unionField returns the Connect field of union branch i (null branches
// have none).
func (n *node) unionField(i int) int {
	f := 0
	for j := 0; j < i; j++ {
		if n.branches[j] != nil {
			f++
		}
	}
	return f
}

// write encodes v, a Connect value of n.connect (or of an equivalent
// schema), to w.
func (n *node) write(w *writer, v any) error {
	switch n.kind {
	case kOptional:
		if v == nil {
			w.long(int64(n.nullIdx))
			return nil
		}
		for i, br := range n.branches {
			if br != nil {
				w.long(int64(i))
				return br.write(w, v)
			}
		}
	case kUnion:
		st, ok := v.(*data.Struct)
		if v == nil {
			if n.nullIdx < 0 {
				return dataErrorf("a null value for a union without null")
			}
			w.long(int64(n.nullIdx))
			return nil
		}
		if !ok {
			return dataErrorf("a union's value must be a Struct, not %T", v)
		}
		for i, br := range n.branches {
			if br == nil {
				continue
			}
			if fv := st.GetWithoutDefault(n.connect.Fields[n.unionField(i)].Name); fv != nil {
				w.long(int64(i))
				return br.write(w, fv)
			}
		}
		if n.nullIdx >= 0 {
			w.long(int64(n.nullIdx))
			return nil
		}
		return dataErrorf("a union struct with no field set")
	}
	if v == nil {
		if d := n.connect.Default; d != nil {
			v = d
		} else {
			return dataErrorf("a null value for the required schema %s", n.connect)
		}
	}
	switch n.kind {
	case kBool:
		b, ok := v.(bool)
		if !ok {
			return mismatch(n, v)
		}
		w.boolean(b)
	case kInt8:
		i, ok := v.(int8)
		if !ok {
			return mismatch(n, v)
		}
		w.int(int32(i))
	case kInt16:
		i, ok := v.(int16)
		if !ok {
			return mismatch(n, v)
		}
		w.int(int32(i))
	case kInt32:
		i, ok := v.(int32)
		if !ok {
			return mismatch(n, v)
		}
		w.int(i)
	case kInt64, kTimeMicro, kTSMicro:
		switch i := v.(type) {
		case int64:
			w.long(i)
		case int:
			w.long(int64(i))
		default:
			return mismatch(n, v)
		}
	case kFloat32:
		f, ok := v.(float32)
		if !ok {
			return mismatch(n, v)
		}
		w.float(f)
	case kFloat64:
		f, ok := v.(float64)
		if !ok {
			return mismatch(n, v)
		}
		w.double(f)
	case kString, kEnum:
		s, ok := v.(string)
		if !ok {
			return mismatch(n, v)
		}
		if n.kind == kEnum {
			i := slices.Index(n.symbols, s)
			if i < 0 {
				return dataErrorf("%q is not a symbol of the enum", s)
			}
			w.int(int32(i))
			return nil
		}
		w.string(s)
	case kBytes, kFixed:
		b, ok := v.([]byte)
		if !ok {
			return mismatch(n, v)
		}
		if n.kind == kFixed {
			if len(b) != n.size {
				return dataErrorf("fixed of size %d given %d bytes", n.size, len(b))
			}
			w.raw(b)
			return nil
		}
		w.bytes(b)
	case kDecimal:
		d, ok := v.(data.Decimal)
		if !ok {
			return mismatch(n, v)
		}
		if d.Scale != n.scale {
			var err error
			if d, err = d.Rescale(n.scale); err != nil {
				return dataErrorf("decimal %s does not fit scale %d", d, n.scale)
			}
		}
		b := twos(d.Unscaled)
		if n.size > 0 {
			if len(b) > n.size {
				return dataErrorf("decimal %s does not fit fixed of size %d", d, n.size)
			}
			fixed := make([]byte, n.size)
			if b[0]&0x80 != 0 {
				for i := range fixed {
					fixed[i] = 0xff
				}
			}
			copy(fixed[n.size-len(b):], b)
			w.raw(fixed)
			return nil
		}
		w.bytes(b)
	case kDate, kTimeMillis, kTimestampMillis:
		t, ok := v.(time.Time)
		if !ok {
			return mismatch(n, v)
		}
		switch n.kind {
		case kDate:
			w.int(int32(t.UnixMilli() / 86400000))
		case kTimeMillis:
			w.int(int32(t.UnixMilli() % 86400000))
		default:
			w.long(t.UnixMilli())
		}
	case kArray:
		arr, ok := v.([]any)
		if !ok {
			return mismatch(n, v)
		}
		if len(arr) > 0 {
			w.long(int64(len(arr)))
			for _, e := range arr {
				if err := n.elem.write(w, e); err != nil {
					return err
				}
			}
		}
		w.long(0)
	case kMap, kMapArray:
		keys, get, err := mapEntries(v)
		if err != nil {
			return mismatch(n, v)
		}
		if len(keys) > 0 {
			w.long(int64(len(keys)))
			for _, k := range keys {
				if n.kind == kMap {
					ks, ok := k.(string)
					if !ok {
						return dataErrorf("map key %v is not a string", k)
					}
					w.string(ks)
				} else if err := n.key.write(w, k); err != nil {
					return err
				}
				if err := n.elem.write(w, get(k)); err != nil {
					return err
				}
			}
		}
		w.long(0)
	case kStruct:
		st, ok := v.(*data.Struct)
		if !ok {
			return mismatch(n, v)
		}
		ss := st.Schema()
		for i, f := range n.fields {
			name := n.connect.Fields[i].Name
			var fv any
			if ss.Field(name) != nil {
				fv = st.Get(name)
			}
			if err := f.write(w, fv); err != nil {
				return fieldError(name, err)
			}
		}
	default:
		return dataErrorf("unsupported schema %s", n.connect)
	}
	return nil
}

// mapEntries lists a map's keys in a stable order (Sluice writes map
// entries sorted, so that the same value gives the same bytes).
func mapEntries(v any) ([]any, func(any) any, error) {
	switch m := v.(type) {
	case map[any]any:
		keys := make([]any, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareKeys)
		return keys, func(k any) any { return m[k] }, nil
	case map[string]any:
		keys := make([]any, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareKeys)
		return keys, func(k any) any { return m[k.(string)] }, nil
	}
	return nil, nil, fmt.Errorf("not a map")
}

func compareKeys(a, b any) int {
	sa, sb := fmt.Sprint(a), fmt.Sprint(b)
	switch {
	case sa < sb:
		return -1
	case sa > sb:
		return 1
	}
	return 0
}

// twos encodes x as minimal big-endian two's complement (Java's
// BigInteger.toByteArray), which is Avro's decimal encoding.
func twos(x *big.Int) []byte {
	if x == nil || x.Sign() == 0 {
		return []byte{0}
	}
	if x.Sign() > 0 {
		b := x.Bytes()
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	n := (x.BitLen() + 8) / 8
	m := new(big.Int).Add(x, new(big.Int).Lsh(big.NewInt(1), uint(n)*8))
	b := m.Bytes()
	for len(b) < n {
		b = append([]byte{0xff}, b...)
	}
	// Minimal: drop redundant leading 0xff bytes.
	for len(b) > 1 && b[0] == 0xff && b[1]&0x80 != 0 {
		b = b[1:]
	}
	return b
}
