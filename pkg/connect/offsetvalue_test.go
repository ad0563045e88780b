package connect

import (
	"math"
	"strings"
	"testing"
)

func TestOffsetPosition(t *testing.T) {
	for _, tt := range []struct {
		v       any
		want    int64
		wantErr string
	}{
		{v: nil, want: 0},
		{v: int64(1) << 40, want: 1 << 40},
		{v: 7, want: 7},
		{v: int32(9), want: 9},
		{v: 12.0, want: 12},
		{v: 1.5, wantErr: "1.5 is not a whole number"},
		{v: math.Inf(1), wantErr: "is not a whole number"},
		{v: math.NaN(), wantErr: "is not a whole number"},
		{v: 1e19, wantErr: "is not a whole number"},
		{v: int64(-3), wantErr: "-3 is negative"},
		{v: -2.0, wantErr: "-2 is negative"},
		{v: "5", wantErr: "type string, want a number"},
	} {
		got, err := OffsetPosition(tt.v)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("OffsetPosition(%v) = %d, %v; want error %q", tt.v, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("OffsetPosition(%v) = %d, %v; want %d", tt.v, got, err, tt.want)
		}
	}
}
