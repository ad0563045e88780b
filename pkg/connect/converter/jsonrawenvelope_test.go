package converter

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// envelopeSchema is a row of every primitive and logical type, as the
// JDBC source writes them.
const envelopeSchema = `{"type":"struct","fields":[` +
	`{"type":"int8","optional":true,"field":"i8"},{"type":"int16","optional":true,"field":"i16"},` +
	`{"type":"int32","optional":true,"field":"i32"},{"type":"int64","optional":false,"field":"id"},` +
	`{"type":"float","optional":true,"field":"f32"},{"type":"double","optional":true,"field":"f64"},` +
	`{"type":"boolean","optional":true,"field":"b"},{"type":"string","optional":true,"field":"s"},` +
	`{"type":"bytes","optional":true,"field":"raw"},` +
	`{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"dec"},` +
	`{"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Date","version":1,"field":"d"},` +
	`{"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Time","version":1,"field":"t"},` +
	`{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"ts"},` +
	`{"type":"string","optional":true,"default":"dflt","field":"withDefault"}` +
	`],"optional":false,"name":"row"}`

// envelopePayloads are payloads for envelopeSchema, valid and not.
var envelopePayloads = []string{
	`{"id":1}`, `{"id":1,"withDefault":"x"}`,
	`{"i8":300,"i16":-70000,"i32":2147483648,"id":-9223372036854775808,"f32":1.5,"f64":-2e300,"b":true,"s":"a\"\u00e9","raw":"AQID",` +
		`"dec":"ME8=","d":19000,"t":3600000,"ts":1767225600000,"withDefault":"y"}`,
	`{"id":2,"f32":"NaN","f64":"-Infinity","s":"","raw":"","dec":12.345,"unknown":{"x":[1,2]},"withDefault":"z"}`,
	`{"id":3,"id":4,"s":null,"s":"x","withDefault":"w"}`, `{"id":1.5,"withDefault":"x"}`, `{"id":1e3,"withDefault":"x"}`,
	`{"id":99999999999999999999,"withDefault":"x"}`, ` { "id" : 5 , "withDefault" : "x" } `,
	// Refused by ToConnectData.
	`{"withDefault":"x"}`, `{"id":null,"withDefault":"x"}`, `{"id":"1","withDefault":"x"}`, `{"id":1,"b":1,"withDefault":"x"}`,
	`{"id":1,"f64":"nan","withDefault":"x"}`, `{"id":1,"raw":"!!","withDefault":"x"}`, `{"id":1,"dec":"","withDefault":"x"}`,
	`{"id":1,"d":1.5,"withDefault":"x"}`, `{"id":1,"d":2147483648,"withDefault":"x"}`, `{"id":1,"t":86400000,"withDefault":"x"}`,
	`{"id":1,"t":-1,"withDefault":"x"}`, `{"id":1,"ts":1.0,"withDefault":"x"}`, `{"id":1,"s":5,"withDefault":"x"}`,
	`{"id":1,"s":"x\q","withDefault":"x"}`, `{"id":1,"withDefault":"x"`, `{"id":1,,"withDefault":"x"}`, `null`, `[]`, `5`,
	`{"id":1,"unknown":"x\q","withDefault":"x"}`,
	// Read without error, but not vouched for: the default replaces a
	// null or missing field.
	`{"id":1,"withDefault":null}`,
}

// TestJSONCheckRawEnvelope: with schemas.enable=true, CheckRaw accepts
// only envelopes that ToConnectData reads without error to a Struct, and
// accepts those of flat structs.
func TestJSONCheckRawEnvelope(t *testing.T) {
	c := NewJSONConverter()
	accepted, refused := 0, 0
	for _, p := range envelopePayloads {
		in := []byte(`{"schema":` + envelopeSchema + `,"payload":` + p + `}`)
		_, v, err := c.ToConnectData("t", in)
		_, isStruct := v.(*data.Struct)
		got := c.CheckRaw("t", in)
		if got && (err != nil || !isStruct) {
			t.Errorf("CheckRaw accepted payload %s, which ToConnectData reads to %v, %v", p, v, err)
		}
		// Everything ToConnectData reads, but for a default replacing a
		// null, CheckRaw vouches for.
		if !got && err == nil && isStruct && !strings.Contains(p, `"withDefault":null`) && strings.Contains(p, `"withDefault"`) {
			t.Errorf("CheckRaw refused payload %s, which ToConnectData reads without error", p)
		}
		if got {
			accepted++
		} else {
			refused++
		}
	}
	if accepted < 8 || refused < 15 {
		t.Fatalf("%d accepted, %d refused: the table must hold both kinds", accepted, refused)
	}
	for _, in := range []string{
		`{"schema":{"type":"int64"},"payload":5}`, // not a struct
		`{"schema":{"type":"struct","fields":[{"type":"array","items":{"type":"int32"},"field":"a"}]},"payload":{"a":[1]}}`,
		`{"schema":{"type":"struct","fields":[{"type":"struct","fields":[],"field":"n"}]},"payload":{"n":{}}}`,
		`{"schema":null,"payload":{"a":1}}`, `{"payload":{"a":1}}`, `{"schema":{"type":"struct","fields":[]},"payload":{},"x":1}`,
		// The last payload counts, whatever the first.
		`{"schema":` + envelopeSchema + `,"payload":{"id":1,"withDefault":"x"},"payload":{"id":"x","withDefault":"x"}}`,
	} {
		if c.CheckRaw("t", []byte(in)) {
			t.Errorf("CheckRaw accepted %s", in)
		}
	}
	for _, in := range []string{
		`{"schema":` + envelopeSchema + `,"payload":{"id":"x","withDefault":"x"},"payload":{"id":1,"withDefault":"x"}}`,
		`{"schema":` + envelopeSchema + `,"payload":{"id":1,"withDefault":"x"} }`,
		`{"schema":` + envelopeSchema + `,"payload":{"id":1,"withDefault":"x"}}trailing}`,
	} {
		if !c.CheckRaw("t", []byte(in)) {
			t.Errorf("CheckRaw refused %s", in)
		}
	}
	if !c.CheckRaw("t", []byte(`{"payload":{},"schema":{"type":"struct","fields":[]}}`)) {
		t.Error("CheckRaw refused an empty struct with the payload first")
	}
}

// FuzzJSONCheckRawEnvelope: CheckRaw never vouches for an envelope that
// ToConnectData does not read without error to a Struct.
func FuzzJSONCheckRawEnvelope(f *testing.F) {
	for _, p := range envelopePayloads {
		f.Add([]byte(p), true)
		f.Add([]byte(p), false)
	}
	f.Fuzz(func(t *testing.T, payload []byte, replaceNull bool) {
		c := NewJSONConverter()
		if err := c.Configure(map[string]string{JSONReplaceNullWithDefault: map[bool]string{true: "true", false: "false"}[replaceNull]}, false); err != nil {
			t.Fatal(err)
		}
		in := []byte(`{"schema":` + envelopeSchema + `,"payload":` + string(payload) + `}`)
		if !c.CheckRaw("t", in) {
			return
		}
		if _, v, err := c.ToConnectData("t", in); err != nil {
			t.Fatalf("CheckRaw accepted payload %q, which ToConnectData refuses: %v", payload, err)
		} else if _, ok := v.(*data.Struct); !ok {
			t.Fatalf("CheckRaw accepted payload %q, which ToConnectData reads to %T", payload, v)
		}
	})
}
