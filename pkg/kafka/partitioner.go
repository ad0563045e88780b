package kafka

import (
	"sync/atomic"

	"github.com/IBM/sarama"
)

// Murmur2 is Kafka's Utils.murmur2, the hash of the Java client's default
// partitioner. sarama's default partitioner hashes with FNV-1a, so records
// it places would not land where Java producers (and Kafka Connect) put the
// same keys.
func Murmur2(data []byte) int32 {
	const (
		seed = uint32(0x9747b28c)
		m    = uint32(0x5bd1e995)
		r    = 24
	)
	length := len(data)
	h := seed ^ uint32(length)
	length4 := length / 4
	for i := 0; i < length4; i++ {
		i4 := i * 4
		k := uint32(data[i4]) | uint32(data[i4+1])<<8 | uint32(data[i4+2])<<16 | uint32(data[i4+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := length &^ 3
	switch length % 4 {
	case 3:
		h ^= uint32(data[tail+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[tail+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[tail])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// PartitionForKey returns the partition Kafka's Java default partitioner
// chooses for a non-nil key: toPositive(murmur2(key)) % numPartitions.
func PartitionForKey(key []byte, numPartitions int32) int32 {
	return (Murmur2(key) & 0x7fffffff) % numPartitions
}

// javaPartitioner places a message on its explicit partition when it has one
// (Partition >= 0), on the murmur2 partition of its key otherwise, and
// round-robin when the key is nil.
type javaPartitioner struct {
	next atomic.Uint32
}

func newJavaPartitioner(string) sarama.Partitioner { return &javaPartitioner{} }

func (p *javaPartitioner) Partition(msg *sarama.ProducerMessage, numPartitions int32) (int32, error) {
	if msg.Partition >= 0 {
		return msg.Partition, nil // sarama rejects it if >= numPartitions
	}
	if msg.Key == nil {
		return int32((p.next.Add(1) - 1) % uint32(numPartitions)), nil
	}
	key, err := msg.Key.Encode()
	if err != nil {
		return -1, err
	}
	return PartitionForKey(key, numPartitions), nil
}

// RequiresConsistency is true: a key must map to the same partition even
// while that partition has no leader, and sarama must pass all partitions
// (sorted by ID) so that the returned index is the partition ID.
func (p *javaPartitioner) RequiresConsistency() bool { return true }
