package jdbc

import (
	"bytes"
	"context"
	"encoding/base64"
	"math/big"
	"strconv"
	"time"
	"unsafe"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// The sink reads JsonConverter values (schemas.enable=true) from their
// bytes (connect.RawValueSink): the lease leaves undecoded the envelopes
// whose schema is a STRUCT of primitive and logical fields and whose
// payload reads without error (JSONConverter.CheckRaw), and the sink reads
// the payload's fields straight into the row's Connect values, as
// ToConnectData would have decoded them, without building the Struct. A
// value it does not read so (a number the converter would truncate or
// wrap, a schema it was not given) is decoded as the lease would have, so
// rows, errors and dead letters are the same either way.

//
// Keys of JsonConverter (schemas.enable=true) come undecoded too
// (connect.RawKeySink): the sink reads a key's fields from its bytes
// when it reads the record's value so, and decodes the key as the lease
// would have otherwise (decodeKey).

var (
	_ connect.RawValueSink = (*SinkTask)(nil)
	_ connect.RawKeySink   = (*SinkTask)(nil)
)

// TakesRawKeys reports whether the task takes keys undecoded from
// keyConverter: JsonConverter with schemas.enable=true.
func (t *SinkTask) TakesRawKeys(keyConverter connect.Converter) bool {
	return t.TakesRawValues(keyConverter)
}

// decodeKey decodes r's key if the lease left it undecoded.
func decodeKey(r *connect.SinkRecord) error {
	raw, ok := r.Key.(*connect.RawValue)
	if !ok {
		return nil
	}
	var err error
	if r.KeySchema, r.Key, err = raw.Decode(); err != nil {
		return &RecordError{Err: err}
	}
	return nil
}

// rawKey is r's key read from its bytes: a copy of them, the row's own,
// as a RawValue (which r then holds), and its schema (which r.KeySchema
// then is) and payload; ok is false when r's key is not undecoded or
// not laid out so, and r's key is then decoded.
func (t *SinkTask) rawKey(r *connect.SinkRecord) (payload []byte, ok bool, err error) {
	raw, isRaw := r.Key.(*connect.RawValue)
	if !isRaw {
		return nil, false, nil
	}
	if jc, isJSON := raw.Converter.(*converter.JSONConverter); isJSON {
		owned := t.own(raw.Bytes)
		if ks, p, ok := jc.RawPayload(owned); ok && ks.Type == data.TypeStruct {
			key := t.newRawValue()
			*key = connect.RawValue{Topic: raw.Topic, Bytes: owned, Converter: raw.Converter}
			r.KeySchema, r.Key = ks, key
			return p, true, nil
		}
	}
	return nil, false, decodeKey(r)
}

// own returns a copy of b, the row's own: a slice of a block of 64 KiB
// shared by the rows copied after each other (held until the last of
// them is gone) rather than an allocation of its own.
func (t *SinkTask) own(b []byte) []byte {
	if len(b) > cap(t.rawBytes)-len(t.rawBytes) {
		t.rawBytes = make([]byte, 0, max(64<<10, len(b)))
	}
	n := len(t.rawBytes)
	t.rawBytes = append(t.rawBytes, b...)
	return t.rawBytes[n:len(t.rawBytes):len(t.rawBytes)]
}

// newRawValue returns a RawValue of a block allocated once for many rows.
func (t *SinkTask) newRawValue() *connect.RawValue {
	if len(t.rawValues) == 0 {
		t.rawValues = make([]connect.RawValue, 256)
	}
	v := &t.rawValues[0]
	t.rawValues = t.rawValues[1:]
	return v
}

// TakesRawValues reports whether the task takes values undecoded from
// valueConverter: JsonConverter with schemas.enable=true.
func (t *SinkTask) TakesRawValues(valueConverter connect.Converter) bool {
	jc, ok := valueConverter.(*converter.JSONConverter)
	return ok && jc.SchemasEnabled()
}

// rawRow maps a record whose value the lease left undecoded to its shape
// and row; a nil shape and error say to decode it instead. The row keeps
// a copy of the value's payload, which its strings share and, with the
// bytes before it (pendingRow.prefix, one copy for all the rows of a
// schema), make a dead letter's value; of a value laid out otherwise, a
// copy of all of it.
func (t *SinkTask) rawRow(ctx context.Context, r *connect.SinkRecord, raw *connect.RawValue) (*shape, pendingRow, error) {
	jc, ok := raw.Converter.(*converter.JSONConverter)
	if !ok {
		return nil, pendingRow{}, nil
	}
	value := raw.Bytes
	vs, payload, ok := jc.RawPayload(value)
	if !ok || vs.Type != data.TypeStruct {
		return nil, pendingRow{}, nil
	}
	var owned, prefix []byte
	if k := len(value) - 1 - len(payload); k >= 0 && len(payload) > 0 && value[len(value)-1] == '}' && unsafe.SliceData(payload) == &value[k] {
		if !bytes.Equal(t.rawPrefix, value[:k]) {
			t.rawPrefix = bytes.Clone(value[:k])
		}
		owned, prefix = t.own(payload), t.rawPrefix
		payload = owned
	} else {
		owned = bytes.Clone(value)
		if vs, payload, ok = jc.RawEnvelope(owned); !ok || vs.Type != data.TypeStruct {
			return nil, pendingRow{}, nil
		}
	}
	r.ValueSchema = vs
	keyPayload, _, err := t.rawKey(r)
	if err != nil {
		return nil, pendingRow{}, err
	}
	s, err := t.shapeOf(r)
	if err != nil {
		return nil, pendingRow{}, err
	}
	ts, err := t.ensureTable(ctx, s, false)
	if err != nil {
		return nil, pendingRow{}, err
	}
	if cap(t.rawFast) < len(s.cols) {
		t.rawFast = make([]fastValue, len(s.cols))
	}
	fast := t.rawFast[:len(s.cols)]
	args, ok, err := s.rawValues(r, vs, payload, keyPayload, &t.scanner, fast)
	if err != nil || !ok {
		return nil, pendingRow{}, err
	}
	if err := t.rawToSink(s, ts, args, fast); err != nil {
		return nil, pendingRow{}, err
	}
	rec := *r
	v := t.newRawValue()
	*v = connect.RawValue{Topic: raw.Topic, Bytes: owned, Converter: raw.Converter}
	rec.Value = v
	return s, pendingRow{rec: rec, args: args, prefix: prefix}, nil
}

// fieldColumns is, for each field of schema, the index of the column
// that takes it from the record's part from (fromValue, fromKeyField), -1
// for a field no column takes.
func (s *shape) fieldColumns(schema *data.Schema, from source) []int {
	cols := make([]int, len(schema.Fields))
	for i := range cols {
		cols[i] = -1
	}
	for i, c := range s.cols {
		if c.from == from {
			cols[schema.Field(c.field).Index] = i
		}
	}
	return cols
}

// rawValues is values for a record whose value is payload, an object
// JSONConverter.CheckRaw accepted against vs (equal to s.valSchema), read
// by sc (which is left after it); ok is false when it holds a value that
// is not read here. keyPayload, when not nil, is the payload of r's key
// (rawKey), read so too.
func (s *shape) rawValues(r *connect.SinkRecord, vs *data.Schema, payload, keyPayload []byte, sc *converter.JSONScanner, fast []fastValue) (_ []any, ok bool, _ error) {
	if s.rawCols == nil {
		s.rawCols = s.fieldColumns(s.valSchema, fromValue)
	}
	out := make([]any, len(s.cols))
	if !rawObject(sc, payload, vs, s.rawCols, out, fast) {
		return nil, false, nil
	}
	if keyPayload != nil {
		if s.rawKeyCols == nil {
			s.rawKeyCols = s.fieldColumns(s.keySchema, fromKeyField)
		}
		if !rawObject(sc, keyPayload, s.keySchema, s.rawKeyCols, out, fast) {
			return nil, false, nil
		}
	}
	for i, c := range s.cols {
		readRaw := c.from == fromValue || c.from == fromKeyField && keyPayload != nil
		if !readRaw {
			var err error
			if out[i], err = c.fromRecord(r); err != nil {
				return nil, false, err
			}
		}
		if c.key && out[i] == nil {
			return nil, false, recordErrorf("primary key column %q is null", c.name)
		}
	}
	return out, true, nil
}

// rawObject reads payload, an object CheckRaw accepted against schema,
// with sc: the value of field i goes to out[cols[i]] (none for -1); ok
// is false when it holds a value that is not read here.
func rawObject(sc *converter.JSONScanner, payload []byte, schema *data.Schema, cols []int, out []any, fast []fastValue) bool {
	sc.Reset(payload)
	if sc.BeginObject() != nil {
		return false
	}
	for first := true; ; first = false {
		key, more, err := sc.NextKey(first)
		if err != nil {
			return false
		}
		if !more {
			break
		}
		fi := -1
		for i := range schema.Fields {
			if schema.Fields[i].Name == string(key) {
				fi = i
				break
			}
		}
		if fi < 0 || cols[fi] < 0 {
			if sc.Skip() != nil {
				return false
			}
			continue
		}
		v, ok := rawField(sc, schema.Fields[fi].Schema, &fast[cols[fi]])
		if !ok {
			return false
		}
		if v != nil { // a null does not replace an earlier value of a repeated key
			out[cols[fi]] = v
		}
	}
	return sc.Offset() == len(payload) // else not laid out as JsonConverter writes it (RawPayload)
}

// fastValue is a Decimal whose unscaled value fits an int64, or a
// Timestamp, read from a value's bytes: rawField returns isFast for it,
// and rawToSink makes its driver argument without the Connect value.
type fastValue struct {
	n     int64 // the unscaled value, or the milliseconds
	scale int32
	ts    bool
}

type fastMark struct{}

// isFast is the Connect value of a fastValue until rawToSink.
var isFast any = fastMark{}

// value is the Connect value of v.
func (v fastValue) value() any {
	if v.ts {
		return time.UnixMilli(v.n).UTC()
	}
	return data.Decimal{Unscaled: big.NewInt(v.n), Scale: v.scale}
}

// rawToSink is toSink for rawValues' values: a fastValue becomes its
// driver argument as sinkValue would make it from its Connect value.
func (t *SinkTask) rawToSink(s *shape, ts *tableState, args []any, fast []fastValue) error {
	cols := ts.checked[s]
	tz := t.s.conn.settings.TimeZone
	var err error
	for i, c := range s.cols {
		if args[i] == isFast {
			f, col := fast[i], &cols[i]
			switch {
			case f.ts:
				args[i] = timestampValue(time.UnixMilli(f.n).UTC(), col, tz)
				continue
			case f.scale >= 0 && f.scale <= 18 && !(col.Precision > 0 && f.scale > int32(col.Scale)):
				args[i] = int64DecimalString(f.n, f.scale)
				continue
			}
			args[i] = f.value() // sinkValue rescales it, or says why not
		}
		if args[i], err = sinkValue(c.schema, args[i], &cols[i], tz); err != nil {
			return &RecordError{Err: &ValueError{Table: s.table.String(), Column: c.name, Err: err}}
		}
	}
	return nil
}

// rawField reads the next value against the primitive or logical schema
// fs as JSONConverter.ToConnectData does; ok is false for values read
// otherwise here (the caller decodes the record). A Decimal whose
// unscaled value fits an int64 and a Timestamp are returned as isFast,
// their value in *fv.
func rawField(sc *converter.JSONScanner, fs *data.Schema, fv *fastValue) (any, bool) {
	if sc.Peek() == 'n' {
		return nil, sc.Null() == nil
	}
	switch fs.Name {
	case data.DecimalName:
		if isNumber(sc.Peek()) {
			text, _, err := sc.NumberText()
			if err != nil {
				return nil, false
			}
			d, err := data.ParseDecimal(string(text))
			return d, err == nil
		}
		var scratch [8]byte
		b, ok := rawBase64(sc, scratch[:])
		if !ok || len(b) == 0 {
			return nil, false
		}
		if len(b) <= 8 {
			scale, err := data.DecimalScale(fs)
			if err != nil {
				return nil, false
			}
			// Two's complement, big-endian, sign-extended.
			var n int64
			if b[0]&0x80 != 0 {
				n = -1
			}
			for _, x := range b {
				n = n<<8 | int64(x)
			}
			*fv = fastValue{n: n, scale: scale}
			return isFast, true
		}
		v, err := data.ToLogical(fs, bytes.Clone(b)) // b may be scratch, which stays on the stack

		return v, err == nil
	case data.DateName, data.TimeName:
		n, ok := rawInt(sc)
		if !ok || n != int64(int32(n)) {
			return nil, false
		}
		v, err := data.ToLogical(fs, int32(n))
		return v, err == nil
	case data.TimestampName:
		n, ok := rawInt(sc)
		if !ok {
			return nil, false
		}
		*fv = fastValue{n: n, ts: true}
		return isFast, true
	}
	switch fs.Type {
	case data.TypeInt8:
		n, ok := rawInt(sc)
		return int8(n), ok
	case data.TypeInt16:
		n, ok := rawInt(sc)
		return int16(n), ok
	case data.TypeInt32:
		n, ok := rawInt(sc)
		return int32(n), ok
	case data.TypeInt64:
		n, ok := rawInt(sc)
		return n, ok
	case data.TypeFloat32, data.TypeFloat64:
		bits := 64
		if fs.Type == data.TypeFloat32 {
			bits = 32
		}
		var f float64
		if isNumber(sc.Peek()) {
			text, _, err := sc.NumberText()
			if err != nil {
				return nil, false
			}
			f, _ = strconv.ParseFloat(string(text), bits)
		} else {
			b, err := sc.StringBytes()
			if err != nil {
				return nil, false
			}
			var named bool
			if f, named = converter.FloatName(b); !named {
				return nil, false
			}
		}
		if bits == 32 {
			return float32(f), true
		}
		return f, true
	case data.TypeBoolean:
		b, err := sc.Bool()
		return b, err == nil
	case data.TypeString:
		b, err := sc.StringBytes()
		if err != nil {
			return nil, false
		}
		// b is the row's own copy of the value (or a new slice), never
		// written again.
		return unsafe.String(unsafe.SliceData(b), len(b)), true
	case data.TypeBytes:
		return rawBase64(sc, nil)
	}
	return nil, false
}

func isNumber(c byte) bool { return c == '-' || c >= '0' && c <= '9' }

// rawInt reads an integral number that fits an int64; other numbers
// (which the converter truncates or wraps) are not read here.
func rawInt(sc *converter.JSONScanner) (int64, bool) {
	if !isNumber(sc.Peek()) {
		return 0, false
	}
	text, integral, err := sc.NumberText()
	if err != nil || !integral {
		return 0, false
	}
	neg := text[0] == '-'
	d := text
	if neg {
		d = d[1:]
	}
	if len(d) > 0 && len(d) <= 18 {
		var n int64
		for _, c := range d {
			n = n*10 + int64(c-'0')
		}
		if neg {
			n = -n
		}
		return n, true
	}
	n, err := strconv.ParseInt(string(text), 10, 64)
	return n, err == nil
}

// rawBase64 reads a string of standard base64 and returns its bytes, in
// scratch when they fit.
func rawBase64(sc *converter.JSONScanner, scratch []byte) ([]byte, bool) {
	if sc.Peek() != '"' {
		return nil, false
	}
	b, err := sc.StringBytes()
	if err != nil {
		return nil, false
	}
	out := scratch
	if n := base64.StdEncoding.DecodedLen(len(b)); n > len(out) || out == nil {
		out = make([]byte, n) // not nil when empty: an empty value, not NULL
	}
	n, err := base64.StdEncoding.Decode(out, b)
	return out[:n], err == nil
}
