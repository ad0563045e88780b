package converter

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// SimpleHeaderConverter is Connect's default header converter,
// org.apache.kafka.connect.storage.SimpleHeaderConverter. It writes a header
// value as Connect's Values.convertToString and reads one back with the
// schema inference of Values.parseString: true/false to BOOLEAN; integers
// to the smallest of INT8, INT16, INT32, INT64 ("1.0" is INT8 too); other
// numbers to FLOAT32, or FLOAT64 when FLOAT32 overflows, or a Decimal when
// both do; "yyyy-MM-dd", "HH:mm:ss.SSSZ" and "yyyy-MM-ddTHH:mm:ss.SSSZ" to
// Date, Time and Timestamp (read in UTC); [..] to ARRAY and {..} to MAP,
// with the common numeric type of their elements; "null" to no value; and
// anything else to the STRING itself.
//
// Corners not reproduced: Connect's SimpleDateFormat is lenient about the
// width of each date field, Sluice wants exactly the pattern's digits;
// merging a logical type with a number in one list keeps the values as they
// were parsed. Like Connect, a top-level number followed by more text ("1,2")
// reads as the number, and quoted strings inside lists keep their escapes.
//
// It has no properties; the zero value is ready and safe for concurrent use.
type SimpleHeaderConverter struct{}

var _ connect.HeaderConverter = SimpleHeaderConverter{}

// Configure accepts and ignores the properties.
func (SimpleHeaderConverter) Configure(map[string]string) error { return nil }

// FromConnectHeader renders value as a UTF-8 string; nil stays nil, and
// the empty string is an empty (not a null) header value.
func (SimpleHeaderConverter) FromConnectHeader(topic, key string, schema *data.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	return appendValuesString([]byte{}, value, false)
}

// ToConnectHeader parses the header's string form; nil gives no schema and
// no value, the empty string a STRING.
func (SimpleHeaderConverter) ToConnectHeader(topic, key string, value []byte) (*data.Schema, any, error) {
	if value == nil {
		return nil, nil, nil
	}
	str := utf8Charset.decode(value)
	if str == "" {
		return data.StringSchema, "", nil
	}
	s, v := ParseString(str)
	return s, v, nil
}

// ParseString infers a schema and value from a string as Connect's
// Values.parseString does (see SimpleHeaderConverter). "null" gives nil, nil.
func ParseString(s string) (*data.Schema, any) {
	if s == "" {
		return data.StringSchema, ""
	}
	p := &valueParser{orig: s}
	sv, _ := p.parse(false)
	if sv == nil {
		return nil, nil
	}
	return sv.schema, sv.value
}

type schemaAndValue struct {
	schema *data.Schema
	value  any
}

var errParse = errors.New("parse")

// valueParser is Connect's Values.Parser: a tokenizer that splits on
// unescaped : , { } [ ] " and a recursive parser over its tokens.
type valueParser struct {
	orig     string
	pos      int
	next     string
	hasNext  bool
	previous string
}

func (p *valueParser) canConsumeNextToken() bool { return p.pos < len(p.orig) }

func (p *valueParser) more() bool { return p.hasNext || p.canConsumeNextToken() }

func (p *valueParser) consumeNextToken() string {
	escaped := false
	start := p.pos
	for p.pos < len(p.orig) {
		switch c := p.orig[p.pos]; c {
		case '\\':
			escaped = !escaped
		case ':', ',', '{', '}', '[', ']', '"':
			if !escaped {
				if start < p.pos {
					return p.orig[start:p.pos]
				}
				p.pos++
				return p.orig[start : start+1]
			}
			escaped = false
		default:
			escaped = false
		}
		p.pos++
	}
	return p.orig[start:p.pos]
}

func (p *valueParser) nextToken() string {
	if p.hasNext {
		p.previous, p.hasNext = p.next, false
	} else {
		p.previous = p.consumeNextToken()
	}
	return p.previous
}

func (p *valueParser) nextN(n int) (string, bool) {
	start := p.mark()
	for range n {
		if !p.more() {
			p.rewindTo(start)
			return "", false
		}
		p.nextToken()
	}
	return p.orig[start:p.pos], true
}

func (p *valueParser) mark() int {
	if p.hasNext {
		return p.pos - len(p.next)
	}
	return p.pos
}

func (p *valueParser) rewindTo(pos int) {
	p.pos, p.hasNext, p.previous = pos, false, ""
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

func (p *valueParser) canConsume(expected string) bool {
	if !p.hasNext {
		if !p.more() {
			return false
		}
		p.next, p.hasNext = p.consumeNextToken(), true
	}
	for isBlank(p.next) && p.canConsumeNextToken() {
		p.next = p.consumeNextToken()
	}
	if strings.TrimSpace(p.next) == expected {
		p.hasNext = false
		return true
	}
	return false
}

func (p *valueParser) canParseSingleTokenLiteral(embedded bool, lit string) bool {
	start := p.mark()
	if p.canConsume(lit) && (embedded || !p.more()) {
		return true
	}
	p.rewindTo(start)
	return false
}

var (
	trueSV  = &schemaAndValue{data.BooleanSchema, true}
	falseSV = &schemaAndValue{data.BooleanSchema, false}
)

// parse returns nil for a null value; err only for embedded values.
func (p *valueParser) parse(embedded bool) (*schemaAndValue, error) {
	switch {
	case !p.more():
		return nil, nil
	case embedded && p.canConsume(`"`):
		return p.parseQuotedString(), nil
	case p.canParseSingleTokenLiteral(embedded, "null"):
		return nil, nil
	case p.canParseSingleTokenLiteral(embedded, "true"):
		return trueSV, nil
	case p.canParseSingleTokenLiteral(embedded, "false"):
		return falseSV, nil
	}
	start := p.mark()
	var sv *schemaAndValue
	var err error
	if p.canConsume("[") {
		sv, err = p.parseArray()
	} else if p.canConsume("{") {
		sv, err = p.parseMap()
	}
	if sv != nil && err == nil {
		return sv, nil
	}
	if err != nil {
		p.rewindTo(start)
	}
	token := p.nextToken()
	if isBlank(token) {
		return &schemaAndValue{data.StringSchema, token}, nil
	}
	return p.parseNextToken(embedded, strings.TrimSpace(token))
}

func (p *valueParser) parseQuotedString() *schemaAndValue {
	var sb strings.Builder
	for p.more() {
		if p.canConsume(`"`) {
			break
		}
		sb.WriteString(p.nextToken())
	}
	content := sb.String()
	if content != "" {
		inner := &valueParser{orig: content}
		if sv, _ := inner.parse(false); sv != nil && isTemporal(sv.schema) {
			return sv
		}
	}
	return &schemaAndValue{data.StringSchema, content}
}

func isTemporal(s *data.Schema) bool {
	return s != nil && (s.Name == data.DateName || s.Name == data.TimeName || s.Name == data.TimestampName)
}

func (p *valueParser) parseNextToken(embedded bool, token string) (*schemaAndValue, error) {
	first := rune(token[0])
	isDigit := unicode.IsDigit(first)
	if isDigit {
		if sv := p.parseMultipleTokensAsTemporal(token); sv != nil {
			return sv, nil
		}
	}
	if isDigit || first == '+' || first == '-' {
		if sv := parseAsNumber(token); sv != nil {
			return sv, nil
		}
	}
	if embedded {
		return nil, errParse
	}
	return &schemaAndValue{data.StringSchema, p.orig}, nil
}

func (p *valueParser) parseMultipleTokensAsTemporal(token string) *schemaAndValue {
	pos := p.mark()
	if rest, ok := p.nextN(4); ok {
		if sv := parseAsTemporal(token + rest); sv != nil {
			return sv
		}
	}
	p.rewindTo(pos)
	return parseAsTemporal(token)
}

var (
	timeSchema      = data.TimeSchema().MustBuild()
	dateSchema      = data.DateSchema().MustBuild()
	timestampSchema = data.TimestampSchema().MustBuild()
)

// parseAsTemporal matches Connect's three ISO 8601 patterns by length, then
// by shape.
func parseAsTemporal(token string) *schemaAndValue {
	token = strings.ReplaceAll(token, `\:`, ":")
	var layout string
	var schema *data.Schema
	switch len(token) {
	case len(isoTime):
		layout, schema = isoTime, timeSchema
	case len(isoTimestamp):
		layout, schema = isoTimestamp, timestampSchema
	case len(isoDate):
		layout, schema = isoDate, dateSchema
	default:
		return nil
	}
	var nums []int
	for i := 0; i < len(layout); i++ {
		lc := layout[i]
		if lc >= '0' && lc <= '9' {
			j := i
			for j < len(layout) && layout[j] >= '0' && layout[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(token[i:j])
			if err != nil || strings.ContainsAny(token[i:j], "+-") {
				return nil
			}
			nums = append(nums, n)
			i = j - 1
			continue
		}
		if token[i] != lc {
			return nil
		}
	}
	var t time.Time
	switch schema {
	case timeSchema:
		t = time.Date(1970, 1, 1, nums[0], nums[1], nums[2], nums[3]*1e6, time.UTC)
	case dateSchema:
		t = time.Date(nums[0], time.Month(nums[1]), nums[2], 0, 0, 0, 0, time.UTC)
	default:
		t = time.Date(nums[0], time.Month(nums[1]), nums[2], nums[3], nums[4], nums[5], nums[6]*1e6, time.UTC)
	}
	return &schemaAndValue{schema, t}
}

// parseAsNumber is Connect's: exact integers to the smallest integer type,
// other numbers to FLOAT32, FLOAT64 or Decimal; nil if token is no number.
func parseAsNumber(token string) *schemaAndValue {
	if !isJavaBigDecimal(token) {
		return nil
	}
	d, err := data.ParseDecimal(token)
	if err != nil {
		return nil
	}
	if n, ok := exactInteger(d); ok {
		switch {
		case n == int64(int8(n)):
			return &schemaAndValue{data.Int8Schema, int8(n)}
		case n == int64(int16(n)):
			return &schemaAndValue{data.Int16Schema, int16(n)}
		case n == int64(int32(n)):
			return &schemaAndValue{data.Int32Schema, int32(n)}
		}
		return &schemaAndValue{data.Int64Schema, n}
	}
	if d.Scale != 0 {
		if f, _ := strconv.ParseFloat(token, 32); !math.IsInf(f, 0) {
			return &schemaAndValue{data.Float32Schema, float32(f)}
		}
		if f, _ := strconv.ParseFloat(token, 64); !math.IsInf(f, 0) {
			return &schemaAndValue{data.Float64Schema, f}
		}
	}
	return &schemaAndValue{data.DecimalSchema(d.Scale).MustBuild(), d}
}

// exactInteger reports d's value if it is a whole number within int64.
// Scales far out of int64's reach are answered without computing their power
// of ten, which for a header such as "6E66666666" would take a minute.
func exactInteger(d data.Decimal) (int64, bool) {
	u := d.Unscaled
	if u == nil || u.Sign() == 0 {
		return 0, true
	}
	if d.Scale < -19 {
		return 0, false // |u| >= 1 times at least 10^20
	}
	// |u| < 2^BitLen <= 10^(BitLen/3+1): a larger scale leaves a fraction.
	if d.Scale > 0 && int64(d.Scale) > int64(u.BitLen())/3+1 {
		return 0, false
	}
	r := d.Rat()
	if !r.IsInt() {
		return 0, false
	}
	n := r.Num()
	if !n.IsInt64() {
		return 0, false
	}
	return n.Int64(), true
}

// isJavaBigDecimal reports whether new BigDecimal(s) would accept s.
func isJavaBigDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		ed := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			ed++
		}
		if ed == 0 {
			return false
		}
	}
	return i == len(s)
}

// schemaMerger is Connect's Values.SchemaMerger: the common numeric schema
// of a list's elements, if any.
type schemaMerger struct {
	common       *data.Schema
	incompatible bool
}

func (m *schemaMerger) merge(sv *schemaAndValue) {
	if sv == nil || sv.schema == nil || m.incompatible {
		return
	}
	if m.common == nil {
		m.common = sv.schema
		return
	}
	m.common = mergeSchemas(m.common, sv.schema)
	m.incompatible = m.common == nil
}

var numericRank = map[data.Type]int{
	data.TypeInt8: 1, data.TypeInt16: 2, data.TypeInt32: 3, data.TypeInt64: 4,
	data.TypeFloat32: 5, data.TypeFloat64: 6,
}

func mergeSchemas(prev, next *data.Schema) *data.Schema {
	if prev.Type != next.Type {
		rp, rn := numericRank[prev.Type], numericRank[next.Type]
		switch {
		case rp == 0 || rn == 0:
			return nil
		case rn > rp:
			return next
		}
		return prev
	}
	if prev.Optional == next.Optional {
		if prev.Optional {
			return prev
		}
		return next
	}
	if !data.Equal(prev, next) {
		return nil
	}
	return prev
}

// align converts a parsed number to the common numeric type.
func align(s *data.Schema, v any) any {
	if s == nil || s.Name != "" || numericRank[s.Type] == 0 {
		return v
	}
	var f float64
	var n int64
	isInt := true
	switch x := v.(type) {
	case int8:
		n = int64(x)
	case int16:
		n = int64(x)
	case int32:
		n = int64(x)
	case int64:
		n = x
	case float32:
		f, isInt = float64(x), false
	case float64:
		f, isInt = x, false
	default:
		return v
	}
	if isInt {
		f = float64(n)
	} else {
		n = int64(f)
	}
	switch s.Type {
	case data.TypeInt8:
		return int8(n)
	case data.TypeInt16:
		return int16(n)
	case data.TypeInt32:
		return int32(n)
	case data.TypeInt64:
		return n
	case data.TypeFloat32:
		if isInt {
			return float32(n)
		}
		return float32(f)
	}
	if isInt {
		return float64(n)
	}
	return f
}

func (p *valueParser) parseArray() (*schemaAndValue, error) {
	result := []any{}
	var merger schemaMerger
	for p.more() {
		if p.canConsume("]") {
			if merger.common == nil || merger.incompatible {
				return &schemaAndValue{&data.Schema{Type: data.TypeArray}, result}, nil
			}
			for i, v := range result {
				result[i] = align(merger.common, v)
			}
			return &schemaAndValue{&data.Schema{Type: data.TypeArray, ValueSchema: merger.common}, result}, nil
		}
		if p.canConsume(",") {
			return nil, errParse
		}
		elem, err := p.parse(true)
		if err != nil {
			return nil, err
		}
		merger.merge(elem)
		if elem != nil {
			result = append(result, elem.value)
		} else {
			result = append(result, nil)
		}
		cur := p.mark()
		if p.canConsume("]") {
			p.rewindTo(cur)
		} else if !p.canConsume(",") {
			return nil, errParse
		}
	}
	return nil, errParse
}

func (p *valueParser) parseMap() (*schemaAndValue, error) {
	type entry struct{ k, v any }
	var entries []entry
	var keys, values schemaMerger
	for p.more() {
		if p.canConsume("}") {
			ks, vs := keys.common, values.common
			if keys.incompatible {
				ks = nil
			}
			if values.incompatible || ks == nil {
				vs = nil
			}
			schema := &data.Schema{Type: data.TypeMap, KeySchema: ks, ValueSchema: vs}
			if ks != nil && ks.Type == data.TypeString {
				m := make(map[string]any, len(entries))
				for _, e := range entries {
					m[e.k.(string)] = align(vs, e.v)
				}
				return &schemaAndValue{schema, m}, nil
			}
			m := make(map[any]any, len(entries))
			for _, e := range entries {
				if !hashable(e.k) {
					return nil, errParse
				}
				m[align(ks, e.k)] = align(vs, e.v)
			}
			return &schemaAndValue{schema, m}, nil
		}
		if p.canConsume(",") {
			return nil, errParse
		}
		key, err := p.parse(true)
		if err != nil {
			return nil, err
		}
		if key == nil || key.value == nil || !p.canConsume(":") {
			return nil, errParse
		}
		val, err := p.parse(true)
		if err != nil {
			return nil, err
		}
		var v any
		if val != nil {
			v = val.value
		}
		entries = append(entries, entry{key.value, v})
		p.canConsume(",")
		keys.merge(key)
		values.merge(val)
	}
	return nil, errParse
}
