package kafka

import "testing"

func TestMurmur2(t *testing.T) {
	// Vectors from Kafka's UtilsTest.testMurmur2 and librdkafka's rdmurmur2.c.
	tests := []struct {
		name string
		in   string
		want int32
	}{
		{"two bytes", "21", -973932308},
		{"six bytes", "foobar", -790332482},
		{"24 bytes", "a-little-bit-long-string", -985981536},
		{"26 bytes", "a-little-bit-longer-string", -1486304829},
		{"48 bytes", "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"three bytes", "abc", 479470107},
		{"kafka", "kafka", -798503068},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireEqual(t, "Murmur2("+tt.in+")", Murmur2([]byte(tt.in)), tt.want)
		})
	}
}

func TestPartitionForKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		n    int32
		want int32
	}{
		// toPositive(-973932308) = 1173551340
		{"21 over 10", "21", 10, 1173551340 % 10},
		// toPositive(479470107) = 479470107
		{"abc over 25", "abc", 25, 479470107 % 25},
		{"one partition", "foobar", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireEqual(t, "PartitionForKey", PartitionForKey([]byte(tt.key), tt.n), tt.want)
		})
	}
}
