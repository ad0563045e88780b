package connect

import (
	"fmt"
	"math"
)

// OffsetPosition reads a non-negative whole number from a committed source
// offset, such as a file position or a sequence number: an int64 as the task
// wrote it, an integral float64 once it went through JSON, or another Go
// integer. nil, an absent field, is 0.
func OffsetPosition(v any) (int64, error) {
	var n int64
	switch p := v.(type) {
	case nil:
		return 0, nil
	case int64:
		n = p
	case int:
		n = int64(p)
	case int32:
		n = int64(p)
	case float64:
		if p != math.Trunc(p) || p < math.MinInt64 || p >= math.MaxInt64 {
			return 0, fmt.Errorf("%v is not a whole number", p)
		}
		n = int64(p)
	default:
		return 0, fmt.Errorf("the value has type %T, want a number", v)
	}
	if n < 0 {
		return 0, fmt.Errorf("%d is negative", n)
	}
	return n, nil
}
