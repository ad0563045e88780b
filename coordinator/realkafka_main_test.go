package coordinator

import (
	"os"
	"testing"

	"github.com/sluicehq/sluice/internal/realkafka"
)

// With SLUICE_TEST_KAFKA=real (make test-kafka) the tests share one Apache
// Kafka broker, stopped when they are done.
func TestMain(m *testing.M) { os.Exit(realkafka.Main(m)) }
