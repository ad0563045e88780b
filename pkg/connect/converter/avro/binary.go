package avro

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The Avro binary encoding's primitives (zig-zag varints, little-endian
// IEEE 754 floats, length-prefixed bytes, blocked arrays and maps), which
// the compiled schema nodes drive. The schemas themselves are parsed by
// github.com/twmb/avro, which also writes the container files; these few
// functions stay here because its encoder works on Go values by
// reflection, while the converter reads and writes Connect values
// directly, without an intermediate map per record.

var errShort = errors.New("unexpected end of the Avro payload")

// maxNesting bounds how deep records nest in one value (a recursive
// record's value, a linked list, nests once per element), so that a
// payload cannot drive the decoder's recursion without bound.
const maxNesting = 4096

// reader reads Avro binary primitives from b. The first error sticks.
// depth is how many records the value being read is inside.
type reader struct {
	b     []byte
	err   error
	depth int
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) long() int64 {
	if r.err != nil {
		return 0
	}
	u, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return int64(u>>1) ^ -int64(u&1)
}

func (r *reader) int() int32 {
	v := r.long()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail(fmt.Errorf("int out of range: %d", v))
		return 0
	}
	return int32(v)
}

func (r *reader) boolean() bool {
	b := r.fixed(1)
	return len(b) == 1 && b[0] != 0
}

func (r *reader) float() float32 {
	b := r.fixed(4)
	if len(b) < 4 {
		return 0
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b))
}

func (r *reader) double() float64 {
	b := r.fixed(8)
	if len(b) < 8 {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}

// fixed returns the next n bytes (a view into the payload).
func (r *reader) fixed(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail(errShort)
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// bytes returns a copy of the next length-prefixed bytes.
func (r *reader) bytes() []byte {
	n := r.long()
	b := r.fixed(int(n))
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func (r *reader) string() string {
	n := r.long()
	return string(r.fixed(int(n)))
}

// blocks calls fn once per item of an array or map, reading the block
// counts (a negative count is followed by the block's size in bytes).
func (r *reader) blocks(fn func()) {
	for r.err == nil {
		n := r.long()
		if n == 0 {
			return
		}
		if n < 0 {
			n = -n
			r.long()
		}
		if n > int64(len(r.b))+1 {
			r.fail(fmt.Errorf("block of %d items in %d bytes", n, len(r.b)))
			return
		}
		for range n {
			if r.err != nil {
				return
			}
			fn()
		}
	}
}

// writer appends Avro binary primitives to b.
type writer struct{ b []byte }

func (w *writer) long(v int64) { w.b = binary.AppendUvarint(w.b, uint64(v<<1^(v>>63))) }
func (w *writer) int(v int32)  { w.long(int64(v)) }
func (w *writer) boolean(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}
func (w *writer) float(v float32) { w.b = binary.LittleEndian.AppendUint32(w.b, math.Float32bits(v)) }
func (w *writer) double(v float64) {
	w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(v))
}
func (w *writer) bytes(v []byte)  { w.long(int64(len(v))); w.b = append(w.b, v...) }
func (w *writer) string(v string) { w.long(int64(len(v))); w.b = append(w.b, v...) }
func (w *writer) raw(v []byte)    { w.b = append(w.b, v...) }
