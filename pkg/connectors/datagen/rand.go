package datagen

// rng is SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast generator
// whose state can be derived from (seed, task, record number) in a few
// multiplications, which is what makes every record a pure function of
// them. It is not for cryptography.
type rng struct{ state uint64 }

const golden = 0x9e3779b97f4a7c15

// mix64 is SplitMix64's output function, a bijective 64-bit hash.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// next returns the next 64 random bits.
func (r *rng) next() uint64 {
	r.state += golden
	return mix64(r.state)
}

// intn returns a number in [0, n) for n > 0 (Lemire's multiply-shift; the
// bias is below 2^-32 for the small n used here).
func (r *rng) intn(n int) int {
	return int(((r.next() >> 32) * uint64(n)) >> 32)
}

// taskStream returns the seed of task's record streams for a shape.
func taskStream(seed int64, shape string, task int64) uint64 {
	h := mix64(uint64(seed) ^ golden)
	for i := 0; i < len(shape); i++ {
		h = mix64(h ^ uint64(shape[i]))
	}
	return mix64(h ^ uint64(task)*0xd1b54a32d192ed03)
}

// recordRNG returns the generator of record i of the task whose stream is
// stream.
func recordRNG(stream uint64, i int64) rng {
	return rng{state: mix64(stream + uint64(i)*golden)}
}
