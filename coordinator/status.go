package coordinator

import "time"

// State is a connector's or task's state, as Connect's status API names it.
type State string

// The states.
const (
	StateUnassigned State = "UNASSIGNED"
	StateRunning    State = "RUNNING"
	StatePaused     State = "PAUSED"
	StateFailed     State = "FAILED"
	StateRestarting State = "RESTARTING"
	StateStopped    State = "STOPPED"
)

// ConnectorStatus is a connector's status and its tasks'.
type ConnectorStatus struct {
	Name  string       `json:"name"`
	Type  string       `json:"type"`
	State State        `json:"state"`
	Trace string       `json:"trace,omitempty"`
	Tasks []TaskStatus `json:"tasks"`
}

// TaskStatus is one task's status and counters.
type TaskStatus struct {
	ID    int    `json:"id"`
	State State  `json:"state"`
	Trace string `json:"trace,omitempty"`
	// Leases and Records count the leases run and records moved since the
	// coordinator started.
	Leases    int64     `json:"leases"`
	Records   int64     `json:"records"`
	LastLease time.Time `json:"last_lease"`
}
