package coordinator

import (
	"encoding/json"
	"math"
	"testing"
)

// toInt64 reads REST offset integers as Connect's SinkUtils does, and
// rejects what no int64 holds on any platform.
func TestToInt64(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want int64
		ok   bool
	}{
		{int64(7), 7, true}, {int32(8), 8, true}, {9, 9, true}, {10.0, 10, true},
		{json.Number("11"), 11, true}, {"12", 12, true},
		{1.5, 0, false}, {math.Exp2(63), 0, false}, {math.Inf(1), 0, false}, {math.NaN(), 0, false},
		{"x", 0, false}, {nil, 0, false}, {true, 0, false},
	} {
		got, err := toInt64(tt.v)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("toInt64(%v) = %d, %v; want %d, ok=%v", tt.v, got, err, tt.want, tt.ok)
		}
	}
}
