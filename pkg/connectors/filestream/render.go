package filestream

import "github.com/sluicehq/sluice/pkg/connect/data"

// AppendValue appends v, a value of Connect's data model, rendered as Java's
// String.valueOf renders the corresponding Connect value, which is what
// Connect's FileStreamSinkTask writes:
//
//   - nil is "null"; strings are written as they are; booleans and integers
//     as Java prints them;
//   - FLOAT32 and FLOAT64 as Float.toString and Double.toString ("1.0",
//     "1.0E7", "NaN", "Infinity");
//   - Decimal as BigDecimal.toString ("12.30", "1.23E+5");
//   - Date, Time and Timestamp values (time.Time) as java.util.Date.toString
//     in UTC ("Mon Jan 01 00:00:00 UTC 2024");
//   - ARRAY as List.toString ("[a, b]") and MAP as Map.toString ("{k=v, k2=v2}");
//     map entries are sorted by their rendered key, where Java's HashMap
//     order is unspecified;
//   - STRUCT as Struct.toString ("Struct{a=1,b=x}"), leaving null fields out,
//     with field values rendered by these same rules;
//   - BYTES as the raw bytes. Java would print the array's identity
//     ("[B@1b6d3586"), which is of no use; raw bytes let the sink copy
//     payloads read with the ByteArrayConverter.
//
// Other values use their String method, or fmt's %v.
func AppendValue(dst []byte, v any) []byte { return data.AppendJava(dst, v) }
