//go:build !race

package kafkatest

// raceDetector is true when the binary is built with -race.
const raceDetector = false
