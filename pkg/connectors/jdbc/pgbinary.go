package jdbc

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"time"
)

// PostgreSQL's binary COPY format: the sink's batches go through each
// column type's receive function instead of its input function, which
// costs the server about half as much (no CSV parsing, no text to
// number or timestamp conversion). A batch is written in binary only when
// every value has an exact binary form for its column's type (pgWire);
// otherwise it goes as CSV, through the input functions, as a literal
// would. Either way a value the column cannot hold (too long, out of
// range, more digits than the numeric's precision) is the server's data
// error, reported per row.

// pgWire is how a value is sent for a column in binary COPY.
type pgWire uint8

const (
	wireNone        pgWire = iota // no binary form: the batch goes as CSV
	wireInt8                      // bigint from int64
	wireInt4                      // integer from int64 in range
	wireInt2                      // smallint from int64 in range
	wireFloat8                    // double precision from float64
	wireFloat4                    // real from a float64 that a float32 holds exactly
	wireBool                      // boolean from bool
	wireBytea                     // bytea from []byte
	wireText                      // text, varchar, char from string
	wireNumeric                   // numeric from a decimal string ("-12.50")
	wireTimestamp                 // timestamp without time zone from "2006-01-02 15:04:05.000"
	wireTimestamptz               // timestamp with time zone from "2006-01-02 15:04:05.000+00" (UTC)
	wireDate                      // date from "2006-01-02"
	wireTime                      // time without time zone from "15:04:05.000"
	wireUUID                      // uuid from its canonical text (8-4-4-4-12 hex digits)
	wireJSONB                     // jsonb from JSON text (version 1)
	wireJSON                      // json from JSON text
)

// pgWireFor is the binary form of a column of type typ (format_type's
// name) for a value v.
func pgWireFor(typ string, v any) pgWire {
	switch v.(type) {
	case int64:
		switch typ {
		case "bigint":
			return wireInt8
		case "integer":
			return wireInt4
		case "smallint":
			return wireInt2
		}
	case float64:
		switch typ {
		case "double precision":
			return wireFloat8
		case "real":
			return wireFloat4
		}
	case bool:
		if typ == "boolean" {
			return wireBool
		}
	case []byte:
		if typ == "bytea" {
			return wireBytea
		}
	case string:
		switch typ {
		case "text", "character varying", "character":
			return wireText
		case "numeric":
			return wireNumeric
		case "timestamp without time zone":
			return wireTimestamp
		case "timestamp with time zone":
			return wireTimestamptz
		case "date":
			return wireDate
		case "time without time zone":
			return wireTime
		case "uuid":
			return wireUUID
		case "jsonb":
			return wireJSONB
		case "json":
			return wireJSON
		}
	}
	return wireNone
}

// pgCopyHeader starts a binary COPY stream: signature, flags, header
// extension length.
var pgCopyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// pgEpoch is PostgreSQL's zero date and timestamp.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// appendPGBinary appends rows in binary COPY format (header and trailer
// included) for columns of the types types (format_type names). It
// returns false, with buf in an undefined state, when a value has no
// exact binary form for its column: the caller sends CSV instead.
func appendPGBinary(buf *bytes.Buffer, types []string, rows [][]any) bool {
	wires := make([]pgWire, len(types))
	buf.Write(pgCopyHeader)
	var scratch [16]byte
	for _, row := range rows {
		buf.Write(binary.BigEndian.AppendUint16(scratch[:0], uint16(len(row))))
		for i, v := range row {
			if v == nil {
				buf.Write([]byte{0xff, 0xff, 0xff, 0xff})
				continue
			}
			w := wires[i]
			if w == wireNone {
				if w = pgWireFor(types[i], v); w == wireNone {
					return false
				}
				wires[i] = w
			}
			if !appendPGValue(buf, w, v) {
				return false
			}
		}
	}
	buf.Write([]byte{0xff, 0xff})
	return true
}

// appendPGValue appends one field (length and bytes).
func appendPGValue(buf *bytes.Buffer, w pgWire, v any) bool {
	var b [12]byte
	field := func(p []byte) {
		buf.Write(binary.BigEndian.AppendUint32(b[:0], uint32(len(p))))
		buf.Write(p)
	}
	switch w {
	case wireInt8:
		x, ok := v.(int64)
		if !ok {
			return false
		}
		field(binary.BigEndian.AppendUint64(b[4:4], uint64(x)))
	case wireInt4:
		x, ok := v.(int64)
		if !ok || x < math.MinInt32 || x > math.MaxInt32 {
			return false // out of range: the server says so, in CSV
		}
		field(binary.BigEndian.AppendUint32(b[4:4], uint32(int32(x))))
	case wireInt2:
		x, ok := v.(int64)
		if !ok || x < math.MinInt16 || x > math.MaxInt16 {
			return false
		}
		field(binary.BigEndian.AppendUint16(b[4:4], uint16(int16(x))))
	case wireFloat8:
		x, ok := v.(float64)
		if !ok {
			return false
		}
		field(binary.BigEndian.AppendUint64(b[4:4], math.Float64bits(x)))
	case wireFloat4:
		x, ok := v.(float64)
		f := float32(x)
		if !ok || float64(f) != x && !math.IsNaN(x) {
			return false // rounded or out of range: the server's input function decides, in CSV
		}
		field(binary.BigEndian.AppendUint32(b[4:4], math.Float32bits(f)))
	case wireBool:
		x, ok := v.(bool)
		if !ok {
			return false
		}
		c := byte(0)
		if x {
			c = 1
		}
		field([]byte{c})
	case wireBytea:
		x, ok := v.([]byte)
		if !ok {
			return false
		}
		field(x)
	case wireText, wireJSON:
		// json_recv takes the text as json_in does (and checks it).
		x, ok := v.(string)
		if !ok {
			return false
		}
		buf.Write(binary.BigEndian.AppendUint32(b[:0], uint32(len(x))))
		buf.WriteString(x)
	case wireJSONB:
		// jsonb_recv: the format version, 1, then the text as jsonb_in
		// reads it (and checks it).
		x, ok := v.(string)
		if !ok {
			return false
		}
		buf.Write(binary.BigEndian.AppendUint32(b[:0], uint32(len(x)+1)))
		buf.WriteByte(1)
		buf.WriteString(x)
	case wireUUID:
		x, ok := v.(string)
		if !ok {
			return false
		}
		u, ok := parseUUID(x)
		if !ok {
			return false // another of uuid_in's forms, or none: the server reads it, in CSV
		}
		field(u[:])
	case wireNumeric:
		x, ok := v.(string)
		return ok && appendPGNumeric(buf, x)
	case wireTimestamp, wireTimestamptz:
		x, ok := v.(string)
		if ok && w == wireTimestamptz {
			// Only UTC: the binary form is the instant in UTC.
			x, ok = strings.CutSuffix(x, "+00")
		}
		if !ok || len(x) != len("2006-01-02 15:04:05.000") || x[10] != ' ' {
			return false
		}
		t, ok := parseDate(x[:10])
		if !ok {
			return false
		}
		d, ok := parseClock(x[11:])
		if !ok {
			return false
		}
		field(binary.BigEndian.AppendUint64(b[4:4], uint64(t.UnixMicro()-pgEpoch.UnixMicro()+d.Microseconds())))
	case wireDate:
		x, ok := v.(string)
		if !ok {
			return false
		}
		t, ok := parseDate(x)
		if !ok {
			return false
		}
		field(binary.BigEndian.AppendUint32(b[4:4], uint32(int32((t.Unix()-pgEpoch.Unix())/86400))))
	case wireTime:
		x, ok := v.(string)
		if !ok {
			return false
		}
		d, ok := parseClock(x)
		if !ok {
			return false
		}
		field(binary.BigEndian.AppendUint64(b[4:4], uint64(d.Microseconds())))
	default:
		return false
	}
	return true
}

// parseUUID parses the canonical form of a UUID, 8-4-4-4-12 hex digits
// of either case.
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	hex := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		h, ok := hex(s[i])
		if !ok {
			return u, false
		}
		if n%2 == 0 {
			u[n/2] = h << 4
		} else {
			u[n/2] |= h
		}
		n++
	}
	return u, true
}

// digits parses s, all ASCII digits, as a number.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

// parseDate parses "2006-01-02" (years 1 to 9999, a real calendar day)
// as midnight UTC.
func parseDate(s string) (time.Time, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	y, ok1 := digits(s[:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:])
	if !ok1 || !ok2 || !ok3 || y < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return time.Time{}, false // e.g. February 30th: the server's error, in CSV
	}
	return t, true
}

// parseClock parses "15:04:05.000" as the time since midnight.
func parseClock(s string) (time.Duration, bool) {
	if len(s) != 12 || s[2] != ':' || s[5] != ':' || s[8] != '.' {
		return 0, false
	}
	h, ok1 := digits(s[:2])
	m, ok2 := digits(s[3:5])
	sec, ok3 := digits(s[6:8])
	ms, ok4 := digits(s[9:])
	if !ok1 || !ok2 || !ok3 || !ok4 || h > 23 || m > 59 || sec > 59 {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second + time.Duration(ms)*time.Millisecond, true
}

// appendPGNumeric appends a plain decimal literal (-?digits[.digits]) as
// a binary numeric field: base-10000 digit groups aligned at the decimal
// point, the weight of the first group, the sign and the display scale
// (the literal's number of decimal places, as numeric_in keeps it).
func appendPGNumeric(buf *bytes.Buffer, s string) bool {
	neg := false
	if s != "" && s[0] == '-' {
		neg, s = true, s[1:]
	}
	intPart, frac, hasPoint := s, "", false
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			intPart, frac, hasPoint = s[:i], s[i+1:], true
			break
		}
	}
	if intPart == "" || hasPoint && frac == "" || len(frac) > 16383 {
		return false
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return false
			}
		}
	}
	for len(intPart) > 1 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	if intPart == "0" {
		intPart = ""
	}
	// Groups of four digits: the integer part padded on the left, the
	// fraction on the right.
	lead := (4 - len(intPart)%4) % 4
	intGroups := (lead + len(intPart)) / 4
	fracGroups := (len(frac) + 3) / 4
	groups := make([]int16, 0, intGroups+fracGroups)
	digitAt := func(i int) int { // i-th digit of the padded integer part and fraction
		switch {
		case i < lead:
			return 0
		case i < lead+len(intPart):
			return int(intPart[i-lead] - '0')
		case i-lead-len(intPart) < len(frac):
			return int(frac[i-lead-len(intPart)] - '0')
		}
		return 0
	}
	for g := 0; g < intGroups+fracGroups; g++ {
		n := 0
		for k := 0; k < 4; k++ {
			n = n*10 + digitAt(g*4+k)
		}
		groups = append(groups, int16(n))
	}
	weight := intGroups - 1
	for len(groups) > 0 && groups[0] == 0 {
		groups, weight = groups[1:], weight-1
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	if weight > math.MaxInt16 || weight < math.MinInt16 {
		return false
	}
	sign := uint16(0)
	if neg && len(groups) > 0 {
		sign = 0x4000
	}
	if len(groups) == 0 {
		weight = 0
	}
	var b [8]byte
	buf.Write(binary.BigEndian.AppendUint32(b[:0], uint32(8+2*len(groups))))
	buf.Write(binary.BigEndian.AppendUint16(b[:0], uint16(len(groups))))
	buf.Write(binary.BigEndian.AppendUint16(b[:0], uint16(int16(weight))))
	buf.Write(binary.BigEndian.AppendUint16(b[:0], sign))
	buf.Write(binary.BigEndian.AppendUint16(b[:0], uint16(len(frac))))
	for _, g := range groups {
		buf.Write(binary.BigEndian.AppendUint16(b[:0], uint16(g)))
	}
	return true
}

// pgArrayTypes are, per binary form, the element type's OID and the
// array type's name, for upserts that send a batch as one array per
// column.
var pgArrayTypes = [...]struct {
	elem  uint32
	array string
}{
	wireInt8:        {20, "int8[]"},
	wireInt4:        {23, "int4[]"},
	wireInt2:        {21, "int2[]"},
	wireFloat8:      {701, "float8[]"},
	wireFloat4:      {700, "float4[]"},
	wireBool:        {16, "bool[]"},
	wireBytea:       {17, "bytea[]"},
	wireText:        {25, "text[]"},
	wireNumeric:     {1700, "numeric[]"},
	wireTimestamp:   {1114, "timestamp[]"},
	wireTimestamptz: {1184, "timestamptz[]"},
	wireDate:        {1082, "date[]"},
	wireTime:        {1083, "time[]"},
	wireUUID:        {2950, "uuid[]"},
	wireJSONB:       {3802, "jsonb[]"},
	wireJSON:        {114, "json[]"},
}

// pgArrays encodes the rows as one binary array per column (the element
// type the column's binary form's), and returns them with the array
// types' names (nil and "" for a column NULL in every row); ok is false
// when a value has no exact binary form for its column. The arrays are
// slices of buf (reset first), one buffer for every column's array, cut
// when all are written.
func pgArrays(buf *bytes.Buffer, types []string, rows [][]any) (arrays [][]byte, arrayTypes []string, ok bool) {
	arrays = make([][]byte, len(types))
	arrayTypes = make([]string, len(types))
	buf.Reset()
	ends := make([]int, len(types))
	for c := range types {
		w := wireNone
		hasNull := false
		for _, row := range rows {
			if row[c] == nil {
				hasNull = true
			} else if w == wireNone {
				w = pgWireFor(types[c], row[c])
			}
		}
		if w == wireNone {
			if hasNull && !slices.ContainsFunc(rows, func(r []any) bool { return r[c] != nil }) {
				continue // NULL in every row: no array
			}
			return nil, nil, false
		}
		at := pgArrayTypes[w]
		var b [20]byte
		flags := uint32(0)
		if hasNull {
			flags = 1
		}
		// One dimension, the NULL flag, the element type, the length and
		// the lower bound 1.
		h := binary.BigEndian.AppendUint32(b[:0], 1)
		h = binary.BigEndian.AppendUint32(h, flags)
		h = binary.BigEndian.AppendUint32(h, at.elem)
		h = binary.BigEndian.AppendUint32(h, uint32(len(rows)))
		h = binary.BigEndian.AppendUint32(h, 1)
		buf.Write(h)
		for _, row := range rows {
			if row[c] == nil {
				buf.Write([]byte{0xff, 0xff, 0xff, 0xff})
				continue
			}
			if !appendPGValue(buf, w, row[c]) {
				return nil, nil, false
			}
		}
		ends[c] = buf.Len()
		arrayTypes[c] = at.array
	}
	all, start := buf.Bytes(), 0
	for c, end := range ends {
		if arrayTypes[c] != "" {
			arrays[c] = all[start:end:end]
			start = end
		}
	}
	return arrays, arrayTypes, true
}
