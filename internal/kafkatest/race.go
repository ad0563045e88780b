package kafkatest

import "testing"

// SkipUnderRaceForSaramaTxn skips t when the test binary is built with the
// race detector, and says why. The Kafka client's transactional producer
// (sarama v1.61.1, the newest release) reads its transaction manager's last
// error under one lock and writes it under another (IBM/sarama#2913, open
// upstream), so a test that makes a transactional producer fail with
// records in flight (fenced, or refused by the broker) trips the race
// detector inside sarama, whatever Sluice does. Such a test calls this
// first; `make test` also runs it without the race detector, where it must
// pass.
func SkipUnderRaceForSaramaTxn(t testing.TB) {
	t.Helper()
	if raceDetector {
		t.Skip("skipped under -race: a failing sarama transactional producer trips a data race inside sarama " +
			"(transactionManager.lastError, IBM/sarama#2913); this test runs without -race in `make test`")
	}
}
