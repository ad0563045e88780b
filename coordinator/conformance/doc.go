// Package conformance holds the differential tests that run one scenario
// against Apache Kafka Connect and against Sluice, on the same Apache Kafka
// broker (make test-kafka), and compare the answers. The golden files under
// testdata/ are Connect's answers, recorded by record.sh.
package conformance
