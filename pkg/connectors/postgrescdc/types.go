package postgrescdc

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// PostgreSQL type OIDs the connector maps (pg_type.oid).
const (
	oidBool        = 16
	oidBytea       = 17
	oidChar        = 18
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidJSON        = 114
	oidXML         = 142
	oidFloat4      = 700
	oidFloat8      = 701
	oidBpchar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidTimetz      = 1266
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
)

// decoder turns a column's text representation (pgoutput's and the
// snapshot's text format) into its Connect value.
type decoder func(text string) (any, error)

// columnType returns the Connect schema of a column and its decoder,
// following Debezium's PostgresValueConverter for the configured
// decimal.handling.mode and time.precision.mode. Types it does not map are
// carried as strings in their PostgreSQL text form.
func (s *settings) columnType(oid uint32, typmod int32, optional bool) (*data.Schema, decoder) {
	build := func(b *data.SchemaBuilder) *data.Schema {
		if optional {
			b.Optional()
		}
		return b.MustBuild()
	}
	prim := func(t data.Type) *data.Schema { return build(data.NewBuilder(t)) }
	switch oid {
	case oidBool:
		return prim(data.TypeBoolean), func(t string) (any, error) { return t == "t", nil }
	case oidInt2:
		return prim(data.TypeInt16), func(t string) (any, error) { v, err := strconv.ParseInt(t, 10, 16); return int16(v), err }
	case oidInt4:
		return prim(data.TypeInt32), func(t string) (any, error) { v, err := strconv.ParseInt(t, 10, 32); return int32(v), err }
	case oidInt8, oidOID:
		return prim(data.TypeInt64), func(t string) (any, error) { return strconv.ParseInt(t, 10, 64) }
	case oidFloat4:
		return prim(data.TypeFloat32), func(t string) (any, error) { v, err := parseFloat(t, 32); return float32(v), err }
	case oidFloat8:
		return prim(data.TypeFloat64), func(t string) (any, error) { return parseFloat(t, 64) }
	case oidBytea:
		return prim(data.TypeBytes), decodeBytea
	case oidJSON, oidJSONB:
		return build(debezium.Semantic(data.TypeString, debezium.JSONName)), decodeString
	case oidXML:
		return build(debezium.Semantic(data.TypeString, debezium.XMLName)), decodeString
	case oidUUID:
		return build(debezium.Semantic(data.TypeString, debezium.UUIDName)), decodeString
	case oidNumeric:
		return s.numericType(typmod, optional)
	case oidDate:
		if s.timeMode == TimeConnect {
			return build(data.DateSchema()), func(t string) (any, error) { return time.Parse("2006-01-02", t) }
		}
		return build(debezium.Semantic(data.TypeInt32, debezium.DateName)), func(t string) (any, error) {
			d, err := time.Parse("2006-01-02", t)
			return int32(d.Unix() / 86400), err
		}
	case oidTime:
		precision := timePrecision(typmod)
		switch {
		case s.timeMode == TimeConnect:
			return build(data.TimeSchema()), func(t string) (any, error) {
				us, err := parseTimeOfDay(t)
				return time.UnixMicro(us / 1000 * 1000).UTC(), err
			}
		case s.timeMode == TimeAdaptive && precision <= 3:
			return build(debezium.Semantic(data.TypeInt32, debezium.TimeName)), func(t string) (any, error) {
				us, err := parseTimeOfDay(t)
				return int32(us / 1000), err
			}
		}
		return build(debezium.Semantic(data.TypeInt64, debezium.MicroTimeName)), func(t string) (any, error) { return parseTimeOfDay(t) }
	case oidTimestamp:
		precision := timePrecision(typmod)
		switch {
		case s.timeMode == TimeConnect:
			return build(data.TimestampSchema()), func(t string) (any, error) {
				ts, err := parseTimestamp(t)
				return ts.Truncate(time.Millisecond), err
			}
		case precision <= 3:
			return build(debezium.Semantic(data.TypeInt64, debezium.TimestampName)), func(t string) (any, error) {
				ts, err := parseTimestamp(t)
				return ts.UnixMilli(), err
			}
		}
		return build(debezium.Semantic(data.TypeInt64, debezium.MicroTimestampName)), func(t string) (any, error) {
			ts, err := parseTimestamp(t)
			return ts.UnixMicro(), err
		}
	case oidTimestamptz:
		return build(debezium.Semantic(data.TypeString, debezium.ZonedTimestampName)), func(t string) (any, error) {
			ts, err := parseTimestamp(t)
			return formatZoned(ts, timePrecision(typmod)), err
		}
	case oidTimetz:
		return build(debezium.Semantic(data.TypeString, debezium.ZonedTimeName)), func(t string) (any, error) {
			ts, err := time.Parse("15:04:05.999999Z07", t)
			if err != nil {
				ts, err = time.Parse("15:04:05.999999Z07:00", t)
			}
			return ts.UTC().Format("15:04:05.999999") + "Z", err
		}
	}
	return prim(data.TypeString), decodeString
}

func decodeString(t string) (any, error) { return t, nil }

func decodeBytea(t string) (any, error) {
	if !strings.HasPrefix(t, `\x`) {
		return nil, fmt.Errorf("bytea %q is not in hex format", t)
	}
	return hex.DecodeString(t[2:])
}

func parseFloat(t string, bits int) (float64, error) {
	switch t {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(t, bits)
}

// timePrecision is a time or timestamp column's fractional digits (6 when
// the column declares none).
func timePrecision(typmod int32) int {
	if typmod < 0 {
		return 6
	}
	return int(typmod)
}

func parseTimeOfDay(t string) (int64, error) {
	if t == "24:00:00" {
		return 24 * 3600 * 1e6, nil
	}
	ts, err := time.Parse("15:04:05.999999", t)
	if err != nil {
		return 0, err
	}
	return int64(ts.Hour())*3600e6 + int64(ts.Minute())*60e6 + int64(ts.Second())*1e6 + int64(ts.Nanosecond()/1000), nil
}

// parseTimestamp reads timestamp and timestamptz text in the session time
// zone UTC (the connector's connections set TimeZone=UTC).
func parseTimestamp(t string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999Z07", "2006-01-02 15:04:05.999999Z07:00", "2006-01-02 15:04:05.999999"} {
		if ts, err := time.Parse(layout, t); err == nil {
			return ts.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse timestamp %q", t)
}

// formatZoned writes a timestamptz as Debezium's ZonedTimestamp: ISO-8601
// in UTC with the column's fractional digits.
func formatZoned(ts time.Time, precision int) string {
	layout := "2006-01-02T15:04:05"
	if precision > 0 {
		layout += "." + strings.Repeat("0", precision)
	}
	return ts.UTC().Format(layout) + "Z"
}

// numericType maps NUMERIC by decimal.handling.mode.
func (s *settings) numericType(typmod int32, optional bool) (*data.Schema, decoder) {
	opt := func(b *data.SchemaBuilder) *data.Schema {
		if optional {
			b.Optional()
		}
		return b.MustBuild()
	}
	switch s.decimalMode {
	case DecimalDouble:
		return opt(data.NewBuilder(data.TypeFloat64)), func(t string) (any, error) { return parseFloat(t, 64) }
	case DecimalString:
		return opt(data.NewBuilder(data.TypeString)), decodeString
	}
	if typmod < 0 {
		return debezium.VariableScaleDecimalSchema(optional), func(t string) (any, error) {
			d, err := data.ParseDecimal(t)
			if err != nil {
				return nil, err
			}
			v := data.NewStruct(debezium.VariableScaleDecimalSchema(optional))
			v.Set("scale", d.Scale)
			v.Set("value", twosComplement(d.Unscaled))
			return v, nil
		}
	}
	precision, scale := (typmod-4)>>16&0xffff, (typmod-4)&0xffff
	b := data.DecimalSchema(scale).Parameter(debezium.DecimalPrecisionParam, strconv.Itoa(int(precision)))
	return opt(b), func(t string) (any, error) {
		d, err := data.ParseDecimal(t)
		if err != nil {
			return nil, err
		}
		return d.Rescale(scale)
	}
}

// twosComplement is a big integer's big-endian two's complement bytes, as
// Java's BigInteger.toByteArray.
func twosComplement(x *big.Int) []byte {
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
	mod := new(big.Int).Lsh(big.NewInt(1), uint(n*8))
	b := new(big.Int).Add(mod, x).Bytes()
	for len(b) < n {
		b = append([]byte{0xff}, b...)
	}
	return b
}
