package lease

import (
	"fmt"
	"strings"
)

// IsolationLevelConfig is the sink connector key that sets its consumer's
// isolation.level, as Connect passes consumer.override.* to a sink
// task's consumer: read_uncommitted (the default, Connect's) or
// read_committed. A read_committed sink gets no record of an aborted
// transaction (those an exactly-once source's killed or fenced
// invocations left behind), and is leased ranges only up to each
// partition's last stable offset.
const IsolationLevelConfig = "consumer.override.isolation.level"

// The isolation levels.
const (
	ReadUncommitted = "read_uncommitted"
	ReadCommitted   = "read_committed"
)

// ReadsCommitted reports whether a sink connector's configuration asks
// for read_committed, and fails, as Connect's consumer does, on a value
// that is neither level.
func ReadsCommitted(connectorConfig map[string]string) (bool, error) {
	switch v := strings.ToLower(strings.TrimSpace(connectorConfig[IsolationLevelConfig])); v {
	case "", ReadUncommitted:
		return false, nil
	case ReadCommitted:
		return true, nil
	}
	return false, fmt.Errorf("%w: Invalid value %s for configuration isolation.level (%s): String must be one of: read_committed, read_uncommitted",
		ErrBadLease, connectorConfig[IsolationLevelConfig], IsolationLevelConfig)
}
