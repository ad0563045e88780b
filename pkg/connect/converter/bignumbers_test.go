package converter

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Numbers with huge exponents in a header or a JSON payload are read without
// writing out their power of ten: "6E66666666" in a header took a minute of
// CPU (and hung a fuzzing worker), 1E-999999999 as an int64 payload longer.
func TestHugeExponentsReadAtOnce(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var h SimpleHeaderConverter
		for _, c := range []struct {
			in, schema, out string
		}{
			{"6E999999999", data.DecimalName, "6E+999999999"},
			{"1.5E-999999999", "float32", "0.0"},
			{"-6E-999999999", "float32", "-0.0"},
			{"0E-999999999", "int8", "0"},
			{"120E-1", "int8", "12"},
			{"92233720368547758070E-1", "int64", "9223372036854775807"},
			{"5E19", "float32", "5.0E19"},
		} {
			s, v, err := h.ToConnectHeader("t", "h", []byte(c.in))
			if err != nil {
				t.Errorf("%s: %v", c.in, err)
				continue
			}
			name := s.Name
			if name == "" {
				name = string(s.Type)
			}
			out, err := h.FromConnectHeader("t", "h", s, v)
			if name != c.schema || err != nil || string(out) != c.out {
				t.Errorf("%s: read as %s, written %q (%v); want %s, %q", c.in, name, out, err, c.schema, c.out)
			}
		}
		j := NewJSONConverter()
		if err := j.Configure(map[string]string{"schemas.enable": "true"}, false); err != nil {
			t.Error(err)
			return
		}
		for in, want := range map[string]int64{
			`{"schema":{"type":"int64"},"payload":1E-999999999}`: 0,
			`{"schema":{"type":"int64"},"payload":-7.9E0}`:       -7,
		} {
			if _, v, err := j.ToConnectData("t", []byte(in)); err != nil || v != want {
				t.Errorf("%s: %v %v, want %d", in, v, err, want)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("huge exponents still computed in full (no answer within 30 s)")
	}
}
