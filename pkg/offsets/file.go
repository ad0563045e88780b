package offsets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// fileFormat names the layout of the file written by File, checked on load.
const fileFormat = "sluice-offsets-v1"

// File is the standalone-mode offsets store, Sluice's counterpart of Kafka
// Connect's offset.storage.file.filename. It keeps the offsets of every
// connector in one JSON file:
//
//	{
//	  "format": "sluice-offsets-v1",
//	  "offsets": [
//	    {"key": ["file-source",{"filename":"/tmp/in.txt"}], "value": {"position":1234}}
//	  ]
//	}
//
// Each key and value is exactly the JSON that Connect writes to its offsets
// topic (see EncodeKey and EncodeValue), embedded as JSON rather than as an
// escaped string so that the file stays readable and editable. Connect's own
// file is a Java-serialized HashMap, which Go cannot share; moving offsets
// between the two means copying these key/value pairs. Entries are sorted by
// key bytes; deleted entries are dropped from the file.
//
// The file is read once by NewFile; File assumes it is the only writer. Every
// Write rewrites the whole file atomically: a temporary file in the same
// directory, fsync, rename over the old file, fsync of the directory. File is
// safe for concurrent use; Writes are serialized.
type File struct {
	path string

	mu sync.Mutex
	// state maps connector -> PartitionID -> encoded key/value. It is
	// replaced only after a successful write, never modified in place.
	state map[string]map[string]fileRecord
}

var _ Store = (*File)(nil)

type fileRecord struct {
	key, value []byte
}

type fileDoc struct {
	Format  string      `json:"format"`
	Offsets []fileEntry `json:"offsets"`
}

type fileEntry struct {
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value"`
}

// NewFile opens the offsets file at path, reading its entries if it exists.
// A missing file is an empty store; it is created by the first Write.
func NewFile(path string) (*File, error) {
	f := &File{path: path, state: map[string]map[string]fileRecord{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("offsets: read offsets file: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return f, nil
	}
	var doc fileDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("offsets: parse offsets file %s: %w", path, err)
	}
	if doc.Format != fileFormat {
		return nil, fmt.Errorf("offsets: offsets file %s has format %q, want %q", path, doc.Format, fileFormat)
	}
	for i, e := range doc.Offsets {
		connector, partition, err := DecodeKey(e.Key)
		if err != nil {
			return nil, fmt.Errorf("offsets: offsets file %s entry %d: %w", path, i, err)
		}
		if _, err := DecodeValue(e.Value); err != nil {
			return nil, fmt.Errorf("offsets: offsets file %s entry %d: %w", path, i, err)
		}
		if bytes.Equal(bytes.TrimSpace(e.Value), []byte("null")) {
			continue
		}
		byPart := f.state[connector]
		if byPart == nil {
			byPart = map[string]fileRecord{}
			f.state[connector] = byPart
		}
		byPart[PartitionID(partition)] = fileRecord{key: compact(e.Key), value: compact(e.Value)}
	}
	return f, nil
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// Load returns the connector's offsets keyed by PartitionID.
func (f *File) Load(ctx context.Context, connector string) (map[string]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	byPart := f.state[connector]
	f.mu.Unlock()

	out := make(map[string]Entry, len(byPart))
	for id, r := range byPart {
		_, partition, err := DecodeKey(r.key)
		if err != nil {
			return nil, err
		}
		offset, err := DecodeValue(r.value)
		if err != nil {
			return nil, err
		}
		out[id] = Entry{Partition: partition, Offset: offset}
	}
	return out, nil
}

// Write applies entries for the connector and rewrites the file atomically.
// On error the store and the file are unchanged.
func (f *File) Write(ctx context.Context, connector string, entries []Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	type change struct {
		id  string
		rec *fileRecord
	}
	changes := make([]change, 0, len(entries))
	for _, e := range entries {
		key, err := EncodeKey(connector, e.Partition)
		if err != nil {
			return err
		}
		id := PartitionID(e.Partition)
		if e.Offset == nil {
			changes = append(changes, change{id: id})
			continue
		}
		value, err := EncodeValue(e.Offset)
		if err != nil {
			return fmt.Errorf("offsets: connector %q partition %s: %w", connector, id, err)
		}
		changes = append(changes, change{id: id, rec: &fileRecord{key: key, value: value}})
	}

	f.mu.Lock()
	defer f.mu.Unlock()

	byPart := make(map[string]fileRecord, len(f.state[connector])+len(changes))
	for id, r := range f.state[connector] {
		byPart[id] = r
	}
	for _, c := range changes {
		if c.rec == nil {
			delete(byPart, c.id)
		} else {
			byPart[c.id] = *c.rec
		}
	}
	next := make(map[string]map[string]fileRecord, len(f.state)+1)
	for c, m := range f.state {
		next[c] = m
	}
	if len(byPart) == 0 {
		delete(next, connector)
	} else {
		next[connector] = byPart
	}

	if err := writeAtomic(f.path, encodeFile(next)); err != nil {
		return fmt.Errorf("offsets: write offsets file: %w", err)
	}
	f.state = next
	return nil
}

func encodeFile(state map[string]map[string]fileRecord) []byte {
	var recs []fileRecord
	for _, byPart := range state {
		for _, r := range byPart {
			recs = append(recs, r)
		}
	}
	slices.SortFunc(recs, func(a, b fileRecord) int { return bytes.Compare(a.key, b.key) })

	var buf bytes.Buffer
	buf.WriteString("{\n  \"format\": \"" + fileFormat + "\",\n  \"offsets\": [")
	for i, r := range recs {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    {\"key\": ")
		buf.Write(r.key)
		buf.WriteString(", \"value\": ")
		buf.Write(r.value)
		buf.WriteByte('}')
	}
	if len(recs) > 0 {
		buf.WriteString("\n  ")
	}
	buf.WriteString("]\n}\n")
	return buf.Bytes()
}

// writeAtomic replaces path with data so that a crash leaves either the old
// or the new contents, never a mix.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable.
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func compact(b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return b
	}
	return buf.Bytes()
}
