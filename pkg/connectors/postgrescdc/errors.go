package postgrescdc

import (
	"errors"
	"fmt"
)

// ErrSlotMissing is returned when committed offsets exist but the
// replication slot that held their WAL is gone: the changes between the
// offset and now are lost, and only a new snapshot can recover.
var ErrSlotMissing = errors.New("replication slot does not exist")

// ErrPublicationMissing is returned when the publication does not exist and
// publication.autocreate.mode is disabled.
var ErrPublicationMissing = errors.New("publication does not exist")

// ErrSlotBehind is returned when the slot's confirmed flush LSN is past the
// committed offset: the server released changes Kafka does not hold.
var ErrSlotBehind = errors.New("replication slot is past the committed offset")

func slotMissing(slot string, at string) error {
	return fmt.Errorf("%w: slot %q is gone, but the committed offset is at LSN %s; the changes after it are lost. "+
		"Set snapshot.mode=when_needed to take a new snapshot, or delete the connector's offsets", ErrSlotMissing, slot, at)
}
