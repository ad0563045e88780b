package filestream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/sluicehq/sluice/pkg/connect/fileaccess"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// SourceClass is the source connector's class name, Connect's.
const SourceClass = "org.apache.kafka.connect.file.FileStreamSourceConnector"

// readChunk is how much Poll reads from the file at a time.
const readChunk = 64 << 10

// The task names used in errors, Connect's class names.
const (
	sourceTaskName = "FileStreamSourceTask"
	sinkTaskName   = "FileStreamSinkTask"
)

// SourceConnector is Connect's FileStreamSourceConnector: one task reading
// one file. It is not safe for concurrent use.
type SourceConnector struct {
	props map[string]string
}

var (
	_ connect.Connector  = (*SourceConnector)(nil)
	_ connect.SourceTask = (*SourceTask)(nil)
)

// NewSourceConnector returns a source connector.
func NewSourceConnector() *SourceConnector { return &SourceConnector{} }

// Start validates the configuration and keeps it for TaskConfigs.
func (c *SourceConnector) Start(_ context.Context, _ connect.ConnectorContext, props map[string]string) error {
	vals, err := SourceConfig().Parse(props)
	if err != nil {
		return err
	}
	if err := fileaccess.Check(FileConfig, vals.String(FileConfig)); err != nil {
		return err
	}
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs returns a single task configuration, the connector's own, as
// only one reader of a file makes sense.
func (c *SourceConnector) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{maps.Clone(c.props)}, nil
}

// Stop does nothing: the connector watches nothing in the background.
func (c *SourceConnector) Stop() error { return nil }

// Config returns SourceConfig().
func (c *SourceConnector) Config() *config.Def { return SourceConfig() }

// SourceTask is Connect's FileStreamSourceTask: it publishes each complete
// line of a file as a STRING record, keyed by nothing, with the byte position
// after the line as its source offset. It is not safe for concurrent use; the
// executor calls it from one goroutine.
type SourceTask struct {
	file      string
	topic     string
	batchSize int
	maxLine   int
	// tolerate skips lines longer than maxLine (errors.tolerance=all);
	// skipping is set while the rest of such a line is read past, and
	// skipFrom is where it began.
	tolerate bool
	skipping bool
	skipFrom int64

	f         *os.File
	partition map[string]any
	// pending holds bytes read from f that do not yet form a complete line;
	// pos is the file position of pending[0].
	pending []byte
	pos     int64
	buf     []byte // backing array of pending
	chunk   []byte
	// text is string(pending[:len(text)]): the records' values are cut
	// from it, one string allocation for the lines of a whole read
	// instead of one per line.
	text string
	// full is set when the last read filled chunk: more of the file is
	// likely waiting, so Poll sizes its batch for batch.size records (up
	// to 8192) at once instead of growing it.
	full bool
}

// NewSourceTask returns a source task.
func NewSourceTask() *SourceTask { return &SourceTask{} }

// Start opens the file and seeks to the position committed for it, if any.
// It fails, naming the file, when the file cannot be opened, is a directory,
// or is shorter than the committed position.
func (t *SourceTask) Start(_ context.Context, tc connect.SourceTaskContext, props map[string]string) error {
	vals, err := SourceConfig().Parse(props)
	if err != nil {
		return err
	}
	t.file = vals.String(FileConfig)
	if err := fileaccess.Check(FileConfig, t.file); err != nil {
		return err
	}
	t.topic = vals.String(TopicConfig)
	t.batchSize = vals.Int(BatchSizeConfig)
	t.maxLine = vals.Int(MaxLineBytesConfig)
	t.tolerate = strings.EqualFold(strings.TrimSpace(props[connect.ErrorsToleranceConfig]), "all")
	t.partition = map[string]any{FilenameField: t.file}

	if tc != nil && tc.Offsets() != nil {
		if off := tc.Offsets().Offset(map[string]any{FilenameField: t.file}); off != nil {
			if t.pos, err = connect.OffsetPosition(off[PositionField]); err != nil {
				return fmt.Errorf("FileStreamSourceTask: offset of file '%s': %w", t.file, err)
			}
		}
	}

	f, err := os.Open(t.file)
	if err != nil {
		return fileError(sourceTaskName, "open", t.file, err)
	}
	t.f = f
	info, err := f.Stat()
	if err != nil {
		return fileError(sourceTaskName, "stat", t.file, err)
	}
	if info.IsDir() {
		return fileError(sourceTaskName, "read", t.file, errors.New("is a directory"))
	}
	if t.pos > 0 {
		if info.Mode().IsRegular() && t.pos > info.Size() {
			return fmt.Errorf("FileStreamSourceTask: committed position %d is beyond the end of file '%s' (%d bytes): "+
				"the file was truncated or replaced; reset the connector's offsets to read it again", t.pos, t.file, info.Size())
		}
		if _, err := f.Seek(t.pos, io.SeekStart); err != nil {
			return fileError(sourceTaskName, "seek in", t.file, err)
		}
	}
	t.chunk = make([]byte, readChunk)
	return nil
}

// Poll returns up to batch.size complete lines read since the last Poll, or
// nil at the end of the file. It never waits for the file to grow.
func (t *SourceTask) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	if t.f == nil {
		return nil, fmt.Errorf("FileStreamSourceTask: file '%s' is not open", t.file)
	}
	var records []connect.SourceRecord
	now := time.Now()
	for {
		for len(records) < t.batchSize {
			if t.skipping && !t.skip() {
				break
			}
			line, n := nextLine(t.pending)
			if len(line) > t.maxLine || n == 0 && t.overlong() {
				if !t.tolerate {
					if len(records) > 0 {
						// Hand over the lines before it; the next Poll fails.
						return records, nil
					}
					return nil, fmt.Errorf("FileStreamSourceTask: the line at position %d of file '%s' is longer than %s=%d bytes "+
						"(raise it, or set errors.tolerance=all to skip such lines)", t.pos, t.file, MaxLineBytesConfig, t.maxLine)
				}
				t.skipping, t.skipFrom = true, t.pos
				continue
			}
			if n == 0 {
				break
			}
			if len(t.text) < n {
				t.text = string(t.pending)
			}
			value := t.text[:len(line)]
			t.consume(n)
			if records == nil {
				n := min(t.batchSize, 256)
				if t.full {
					n = min(t.batchSize, 8192)
				}
				records = make([]connect.SourceRecord, 0, n)
			}
			records = append(records, t.record(value, now))
		}
		if len(records) >= t.batchSize || ctx.Err() != nil {
			return records, nil
		}
		n, err := t.f.Read(t.chunk)
		t.full = n == len(t.chunk)
		if n > 0 {
			// Move what is left to the front of the buffer first, so that it
			// only grows for a line longer than it.
			t.buf = append(append(t.buf[:0], t.pending...), t.chunk[:n]...)
			t.pending = t.buf
		}
		if errors.Is(err, io.EOF) || n == 0 && err == nil {
			return records, nil
		}
		if err != nil {
			if len(records) > 0 {
				// Hand over the complete lines; the next Poll meets the error again.
				return records, nil
			}
			return nil, fileError(sourceTaskName, "read", t.file, err)
		}
	}
}

// overlong reports whether pending, which holds no complete line, already
// holds more than maxLine bytes of the next one (a final "\r" may still
// turn out to be its terminator).
func (t *SourceTask) overlong() bool {
	n := len(t.pending)
	if n > 0 && t.pending[n-1] == '\r' {
		n--
	}
	return n > t.maxLine
}

// skip reads past the rest of a line longer than maxLine: it drops pending
// up to the line's terminator and reports true once it is found, or drops
// all of pending (but a final "\r") and reports false.
func (t *SourceTask) skip() bool {
	for i, c := range t.pending {
		if c != '\n' && c != '\r' {
			continue
		}
		_, n := nextLine(t.pending[i:])
		if n == 0 {
			break // a final "\r": a "\n" may follow
		}
		t.consume(i + n)
		t.skipping = false
		slog.Warn("FileStreamSourceTask: skipped a line longer than "+MaxLineBytesConfig+" (errors.tolerance=all)",
			"file", t.file, "position", t.skipFrom, "bytes", t.pos-t.skipFrom, MaxLineBytesConfig, t.maxLine)
		return true
	}
	keep := 0
	if n := len(t.pending); n > 0 && t.pending[n-1] == '\r' {
		keep = 1
	}
	t.consume(len(t.pending) - keep)
	return false
}

// consume drops the first n bytes of pending (and of text), which moves
// the position past them.
func (t *SourceTask) consume(n int) {
	t.pending = t.pending[n:]
	t.text = t.text[min(n, len(t.text)):]
	t.pos += int64(n)
}

// record is the record of a line, value, that ends at the current position.
func (t *SourceTask) record(value string, ts time.Time) connect.SourceRecord {
	if !utf8.ValidString(value) {
		// As Java's UTF-8 decoder, which Connect reads the file with.
		value = strings.ToValidUTF8(value, string(utf8.RuneError))
	}
	return connect.SourceRecord{
		Record: connect.Record{
			Topic:       t.topic,
			ValueSchema: data.StringSchema,
			Value:       value,
			Timestamp:   ts,
		},
		SourcePartition: t.partition,
		// {"position": t.pos}, without a map per line.
		PositionKey: PositionField,
		Position:    t.pos,
	}
}

// nextLine finds the first complete line in b, as Connect's extractLine: it
// returns the line without its terminator and the number of bytes consumed
// with it, or 0 when b holds no complete line. A "\r" at the very end of b
// is not yet a terminator, since a "\n" may follow. It looks for "\n" and
// then for a "\r" before it with bytes.IndexByte, which scans many bytes
// at a time: a byte-by-byte loop was a fifth of Poll's time.
func nextLine(b []byte) (line []byte, n int) {
	lf := bytes.IndexByte(b, '\n')
	end := lf
	if lf < 0 {
		end = len(b)
	}
	if cr := bytes.IndexByte(b[:end], '\r'); cr >= 0 {
		switch {
		case cr+1 >= len(b):
			return nil, 0
		case b[cr+1] == '\n':
			return b[:cr], cr + 2
		}
		return b[:cr], cr + 1
	}
	if lf < 0 {
		return nil, 0
	}
	return b[:lf], lf + 1
}

// Stop closes the file.
func (t *SourceTask) Stop() error {
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	if err != nil {
		return fileError(sourceTaskName, "close", t.file, err)
	}
	return nil
}

// fileError names the task, the operation and the file, keeping the cause
// (fs.ErrNotExist, fs.ErrPermission) reachable with errors.Is.
func fileError(task, op, file string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: cannot %s file '%s': %w", task, op, file, err)
}
