package data

import (
	"math/big"
	"testing"
)

func TestJavaNumberFormats(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "double one", got: string(AppendJavaFloat(nil, 1, 64)), want: "1.0"},
		{name: "double small", got: string(AppendJavaFloat(nil, 0.001, 64)), want: "0.001"},
		{name: "double tiny", got: string(AppendJavaFloat(nil, 0.0001, 64)), want: "1.0E-4"},
		{name: "double 1e7", got: string(AppendJavaFloat(nil, 1e7, 64)), want: "1.0E7"},
		{name: "double below 1e7", got: string(AppendJavaFloat(nil, 9999999, 64)), want: "9999999.0"},
		{name: "double negative", got: string(AppendJavaFloat(nil, -123.456, 64)), want: "-123.456"},
		{name: "float", got: string(AppendJavaFloat(nil, float64(float32(0.1)), 32)), want: "0.1"},
		{name: "bigdecimal plain", got: string(AppendBigDecimal(nil, NewDecimal(-156, 2))), want: "-1.56"},
		{name: "bigdecimal zeros", got: string(AppendBigDecimal(nil, NewDecimal(0, 2))), want: "0.00"},
		{name: "bigdecimal small", got: string(AppendBigDecimal(nil, NewDecimal(1, 7))), want: "1E-7"},
		{name: "bigdecimal negative scale", got: string(AppendBigDecimal(nil, NewDecimal(123, -2))), want: "1.23E+4"},
		{name: "bigdecimal big", got: string(AppendBigDecimal(nil, Decimal{Unscaled: new(big.Int).Lsh(big.NewInt(1), 70), Scale: 1})), want: "118059162071741130342.4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
}
