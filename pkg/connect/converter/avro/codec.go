package avro

import (
	"fmt"
	"math/big"
	"slices"
	"time"

	havro "github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// read decodes one value of n from r (hamba's binary reader) as a Connect
// value of n.connect. Errors are left in r.Error.
func (n *node) read(r *havro.Reader) any {
	switch n.kind {
	case kBool:
		return r.ReadBool()
	case kInt8:
		return int8(r.ReadInt())
	case kInt16:
		return int16(r.ReadInt())
	case kInt32:
		return r.ReadInt()
	case kInt64, kTimeMicro, kTSMicro:
		return r.ReadLong()
	case kFloat32:
		return r.ReadFloat()
	case kFloat64:
		return r.ReadDouble()
	case kString:
		return r.ReadString()
	case kBytes:
		return r.ReadBytes()
	case kFixed:
		b := make([]byte, n.size)
		r.Read(b)
		return b
	case kEnum:
		i := int(r.ReadInt())
		if i < 0 || i >= len(n.symbols) {
			r.ReportError("read enum", fmt.Sprintf("symbol index %d out of range", i))
			return nil
		}
		return n.symbols[i]
	case kDecimal:
		var b []byte
		if n.size > 0 {
			b = make([]byte, n.size)
			r.Read(b)
		} else {
			b = r.ReadBytes()
		}
		return data.Decimal{Unscaled: fromTwos(b), Scale: n.scale}
	case kDate:
		return time.UnixMilli(int64(r.ReadInt()) * 86400000).UTC()
	case kTimeMillis:
		return time.UnixMilli(int64(r.ReadInt())).UTC()
	case kTimestampMillis:
		return time.UnixMilli(r.ReadLong()).UTC()
	case kArray:
		var out []any
		r.ReadArrayCB(func(r *havro.Reader) bool {
			out = append(out, n.elem.read(r))
			return r.Error == nil
		})
		if out == nil {
			out = []any{}
		}
		return out
	case kMap:
		out := map[any]any{}
		r.ReadMapCB(func(r *havro.Reader, k string) bool {
			out[k] = n.elem.read(r)
			return r.Error == nil
		})
		return out
	case kMapArray:
		out := map[any]any{}
		r.ReadArrayCB(func(r *havro.Reader) bool {
			k := n.key.read(r)
			out[k] = n.elem.read(r)
			return r.Error == nil
		})
		return out
	case kStruct:
		st := data.NewStruct(n.connect)
		for i, f := range n.fields {
			v := f.read(r)
			if r.Error != nil {
				return nil
			}
			if v != nil {
				if err := st.Put(n.connect.Fields[i].Name, v); err != nil {
					r.Error = err
					return nil
				}
			}
		}
		return st
	case kOptional, kUnion:
		i := int(r.ReadLong())
		if i < 0 || i >= len(n.branches) {
			r.ReportError("read union", fmt.Sprintf("branch %d out of range", i))
			return nil
		}
		br := n.branches[i]
		if br == nil {
			return nil
		}
		v := br.read(r)
		if n.kind == kOptional || v == nil || r.Error != nil {
			return v
		}
		st := data.NewStruct(n.connect)
		if err := st.Put(n.connect.Fields[n.unionField(i)].Name, v); err != nil {
			r.Error = err
			return nil
		}
		return st
	}
	r.ReportError("read", "unsupported schema")
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
func (n *node) write(w *havro.Writer, v any) error {
	switch n.kind {
	case kOptional:
		if v == nil {
			w.WriteLong(int64(n.nullIdx))
			return nil
		}
		for i, br := range n.branches {
			if br != nil {
				w.WriteLong(int64(i))
				return br.write(w, v)
			}
		}
	case kUnion:
		st, ok := v.(*data.Struct)
		if v == nil {
			if n.nullIdx < 0 {
				return dataErrorf("a null value for a union without null")
			}
			w.WriteLong(int64(n.nullIdx))
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
				w.WriteLong(int64(i))
				return br.write(w, fv)
			}
		}
		if n.nullIdx >= 0 {
			w.WriteLong(int64(n.nullIdx))
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
		w.WriteBool(b)
	case kInt8:
		i, ok := v.(int8)
		if !ok {
			return mismatch(n, v)
		}
		w.WriteInt(int32(i))
	case kInt16:
		i, ok := v.(int16)
		if !ok {
			return mismatch(n, v)
		}
		w.WriteInt(int32(i))
	case kInt32:
		i, ok := v.(int32)
		if !ok {
			return mismatch(n, v)
		}
		w.WriteInt(i)
	case kInt64, kTimeMicro, kTSMicro:
		switch i := v.(type) {
		case int64:
			w.WriteLong(i)
		case int:
			w.WriteLong(int64(i))
		default:
			return mismatch(n, v)
		}
	case kFloat32:
		f, ok := v.(float32)
		if !ok {
			return mismatch(n, v)
		}
		w.WriteFloat(f)
	case kFloat64:
		f, ok := v.(float64)
		if !ok {
			return mismatch(n, v)
		}
		w.WriteDouble(f)
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
			w.WriteInt(int32(i))
			return nil
		}
		w.WriteString(s)
	case kBytes, kFixed:
		b, ok := v.([]byte)
		if !ok {
			return mismatch(n, v)
		}
		if n.kind == kFixed {
			if len(b) != n.size {
				return dataErrorf("fixed of size %d given %d bytes", n.size, len(b))
			}
			_, _ = w.Write(b)
			return nil
		}
		w.WriteBytes(b)
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
			_, _ = w.Write(fixed)
			return nil
		}
		w.WriteBytes(b)
	case kDate, kTimeMillis, kTimestampMillis:
		t, ok := v.(time.Time)
		if !ok {
			return mismatch(n, v)
		}
		switch n.kind {
		case kDate:
			w.WriteInt(int32(t.UnixMilli() / 86400000))
		case kTimeMillis:
			w.WriteInt(int32(t.UnixMilli() % 86400000))
		default:
			w.WriteLong(t.UnixMilli())
		}
	case kArray:
		arr, ok := v.([]any)
		if !ok {
			return mismatch(n, v)
		}
		if len(arr) > 0 {
			w.WriteLong(int64(len(arr)))
			for _, e := range arr {
				if err := n.elem.write(w, e); err != nil {
					return err
				}
			}
		}
		w.WriteLong(0)
	case kMap, kMapArray:
		keys, get, err := mapEntries(v)
		if err != nil {
			return mismatch(n, v)
		}
		if len(keys) > 0 {
			w.WriteLong(int64(len(keys)))
			for _, k := range keys {
				if n.kind == kMap {
					ks, ok := k.(string)
					if !ok {
						return dataErrorf("map key %v is not a string", k)
					}
					w.WriteString(ks)
				} else if err := n.key.write(w, k); err != nil {
					return err
				}
				if err := n.elem.write(w, get(k)); err != nil {
					return err
				}
			}
		}
		w.WriteLong(0)
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
