//go:build !hdfs

package export_test

import (
	"os"
	"testing"

	"github.com/sluicehq/sluice/internal/realkafka"
)

// With SLUICE_TEST_KAFKA=real (make bench-export-real) the benchmarks share
// one Apache Kafka broker, stopped when they are done.
func TestMain(m *testing.M) { os.Exit(realkafka.Main(m)) }
