package filestream

import (
	"context"
	"github.com/sluicehq/sluice/pkg/connect/fileaccess"
	"maps"
	"os"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// SinkClass is the sink connector's class name, Connect's.
const SinkClass = "org.apache.kafka.connect.file.FileStreamSinkConnector"

// writeThreshold is how many buffered bytes make Put write them out before
// Flush is called.
const writeThreshold = 256 << 10

// SinkConnector is Connect's FileStreamSinkConnector. It is not safe for
// concurrent use.
type SinkConnector struct {
	props map[string]string
}

var (
	_ connect.Connector = (*SinkConnector)(nil)
	_ connect.SinkTask  = (*SinkTask)(nil)
	_ connect.Flusher   = (*SinkTask)(nil)
)

// NewSinkConnector returns a sink connector.
func NewSinkConnector() *SinkConnector { return &SinkConnector{} }

// Start validates the configuration and keeps it for TaskConfigs.
func (c *SinkConnector) Start(_ context.Context, _ connect.ConnectorContext, props map[string]string) error {
	vals, err := SinkConfig().Parse(props)
	if err != nil {
		return err
	}
	if err := fileaccess.Check(FileConfig, vals.String(FileConfig)); err != nil {
		return err
	}
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs returns maxTasks copies of the connector's configuration, as
// Connect does: every task appends to the same file.
func (c *SinkConnector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	configs := make([]map[string]string, max(maxTasks, 1))
	for i := range configs {
		configs[i] = maps.Clone(c.props)
	}
	return configs, nil
}

// Stop does nothing: the connector watches nothing in the background.
func (c *SinkConnector) Stop() error { return nil }

// Config returns SinkConfig().
func (c *SinkConnector) Config() *config.Def { return SinkConfig() }

// SinkTask is Connect's FileStreamSinkTask: it appends each record's value to
// a file as one line, rendered as Java's String.valueOf renders the Connect
// value (see Render). Lines are buffered until Flush, which writes and syncs
// them. It is not safe for concurrent use.
//
// The buffer only ever holds complete lines and is written with one write
// call, so the lines of several tasks appending to the same local file do not
// interleave mid-line.
type SinkTask struct {
	file string
	f    *os.File
	buf  []byte
}

// NewSinkTask returns a sink task.
func NewSinkTask() *SinkTask { return &SinkTask{} }

// Start opens the file for appending, creating it with mode 0644 if missing.
func (t *SinkTask) Start(_ context.Context, _ connect.SinkTaskContext, props map[string]string) error {
	vals, err := SinkConfig().Parse(props)
	if err != nil {
		return err
	}
	t.file = vals.String(FileConfig)
	if err := fileaccess.Check(FileConfig, t.file); err != nil {
		return err
	}
	f, err := os.OpenFile(t.file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		// Connect: "Couldn't find or create file '<file>' for FileStreamSinkTask".
		return fileError(sinkTaskName, "find or create", t.file, err)
	}
	t.f = f
	t.buf = make([]byte, 0, writeThreshold+4<<10)
	return nil
}

// Put appends one line per record to the buffer, writing the buffer to the
// file when it grows large. Nothing is durable before Flush.
func (t *SinkTask) Put(_ context.Context, records []connect.SinkRecord) error {
	for i := range records {
		t.buf = AppendValue(t.buf, records[i].Value)
		t.buf = append(t.buf, '\n')
		if len(t.buf) >= writeThreshold {
			if err := t.write(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Flush writes the buffered lines and syncs the file, so that every record
// put so far is durable before the executor commits its offset.
func (t *SinkTask) Flush(context.Context, map[connect.TopicPartition]int64) error {
	if err := t.write(); err != nil {
		return err
	}
	if err := t.f.Sync(); err != nil {
		return fileError(sinkTaskName, "sync", t.file, err)
	}
	return nil
}

func (t *SinkTask) write() error {
	if len(t.buf) == 0 {
		return nil
	}
	if t.f == nil {
		return fileError(sinkTaskName, "write", t.file, os.ErrClosed)
	}
	_, err := t.f.Write(t.buf)
	// A failed write may have written part of the buffer; the lease fails and
	// its retry writes the whole range again (at least once).
	t.buf = t.buf[:0]
	if err != nil {
		return fileError(sinkTaskName, "write", t.file, err)
	}
	return nil
}

// Stop closes the file. Lines still buffered were never flushed, so their
// offsets were not committed: Stop drops them, and the lease that delivers
// those records again writes them (Connect's task writes them on close,
// which only adds duplicates).
func (t *SinkTask) Stop() error {
	t.buf = t.buf[:0]
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	if err != nil {
		return fileError(sinkTaskName, "close", t.file, err)
	}
	return nil
}
