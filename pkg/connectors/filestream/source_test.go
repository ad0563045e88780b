package filestream

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// fakeContext serves committed offsets keyed by file name.
type fakeContext map[string]map[string]any

func (c fakeContext) Offsets() connect.OffsetReader { return c }

func (c fakeContext) Offset(partition map[string]any) map[string]any {
	name, _ := partition[FilenameField].(string)
	return c[name]
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "input.txt")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func startSource(t *testing.T, tc connect.SourceTaskContext, props map[string]string) *SourceTask {
	t.Helper()
	task := NewSourceTask()
	t.Cleanup(func() { _ = task.Stop() })
	if err := task.Start(context.Background(), tc, props); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return task
}

// pollAll polls until a Poll returns nothing, returning each Poll's lines
// and the position of the last record.
func pollAll(t *testing.T, task *SourceTask) (batches [][]string, last int64) {
	t.Helper()
	last = -1
	for range 100 {
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if len(recs) == 0 {
			return batches, last
		}
		var lines []string
		for _, r := range recs {
			checkSourceRecord(t, r, task.file)
			lines = append(lines, r.Value.(string))
			last = r.Offset()[PositionField].(int64)
		}
		batches = append(batches, lines)
	}
	t.Fatal("Poll never ran dry")
	return nil, 0
}

func checkSourceRecord(t *testing.T, r connect.SourceRecord, file string) {
	t.Helper()
	if r.Topic != "lines" || r.Key != nil || r.KeySchema != nil || r.ValueSchema != data.StringSchema {
		t.Errorf("record %+v: want topic lines, no key, STRING value", r.Record)
	}
	if !reflect.DeepEqual(r.SourcePartition, map[string]any{FilenameField: file}) {
		t.Errorf("source partition = %v", r.SourcePartition)
	}
}

func TestSourcePoll(t *testing.T) {
	tests := []struct {
		name      string
		content   string
		batchSize string
		offset    map[string]any
		want      [][]string
		wantPos   int64 // position of the last record; -1 when none
	}{
		{name: "batches", content: "a\nb\nc\nd\ne\n", batchSize: "2",
			want: [][]string{{"a", "b"}, {"c", "d"}, {"e"}}, wantPos: 10},
		{name: "default batch size", content: "a\nbb\n\nccc\n",
			want: [][]string{{"a", "bb", "", "ccc"}}, wantPos: 10},
		{name: "partial trailing line", content: "one\ntwo\nthr",
			want: [][]string{{"one", "two"}}, wantPos: 8},
		{name: "crlf and lone cr", content: "a\r\nb\rc\n",
			want: [][]string{{"a", "b", "c"}}, wantPos: 7},
		{name: "trailing cr waits for next byte", content: "a\nb\r",
			want: [][]string{{"a"}}, wantPos: 2},
		{name: "resume from int64", content: "one\ntwo\nthree\n", offset: map[string]any{PositionField: int64(4)},
			want: [][]string{{"two", "three"}}, wantPos: 14},
		{name: "resume from float64", content: "one\ntwo\nthree\n", offset: map[string]any{PositionField: float64(8)},
			want: [][]string{{"three"}}, wantPos: 14},
		{name: "resume at end", content: "one\n", offset: map[string]any{PositionField: int64(4)},
			want: nil, wantPos: -1},
		{name: "empty file", content: "", want: nil, wantPos: -1},
		{name: "multibyte positions are bytes", content: "héllo\nwörld\n",
			want: [][]string{{"héllo", "wörld"}}, wantPos: 14},
		{name: "long lines across reads", content: strings.Repeat("x", readChunk+10) + "\nshort\n",
			want: [][]string{{strings.Repeat("x", readChunk+10), "short"}}, wantPos: readChunk + 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.content)
			props := map[string]string{FileConfig: path, TopicConfig: "lines"}
			if tt.batchSize != "" {
				props[BatchSizeConfig] = tt.batchSize
			}
			tc := fakeContext{}
			if tt.offset != nil {
				tc[path] = tt.offset
			}
			task := startSource(t, tc, props)
			got, pos := pollAll(t, task)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("batches = %q, want %q", got, tt.want)
			}
			if pos != tt.wantPos {
				t.Errorf("last position = %d, want %d", pos, tt.wantPos)
			}
		})
	}
}

// TestSourceLineCompletedLater shows that a partial line is emitted once a
// later write completes it, by the same task or by the next lease's.
func TestSourceLineCompletedLater(t *testing.T) {
	path := writeFile(t, "one\ntw")
	props := map[string]string{FileConfig: path, TopicConfig: "lines"}
	task := startSource(t, fakeContext{}, props)
	if got, pos := pollAll(t, task); !reflect.DeepEqual(got, [][]string{{"one"}}) || pos != 4 {
		t.Fatalf("first lease: %q at %d", got, pos)
	}
	appendTo(t, path, "o\nthree\r")
	if got, pos := pollAll(t, task); !reflect.DeepEqual(got, [][]string{{"two"}}) || pos != 8 {
		t.Fatalf("same task after append: %q at %d", got, pos)
	}

	// A new lease resumes from the committed position 8.
	appendTo(t, path, "\nfour\n")
	next := startSource(t, fakeContext{path: {PositionField: int64(8)}}, props)
	if got, pos := pollAll(t, next); !reflect.DeepEqual(got, [][]string{{"three", "four"}}) || pos != 20 {
		t.Fatalf("next lease: %q at %d", got, pos)
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestSourceFileErrors(t *testing.T) {
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(unreadable, []byte("x\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short.txt")
	if err := os.WriteFile(short, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		file   string
		offset map[string]any
		is     error
		skip   bool
	}{
		{name: "missing", file: filepath.Join(dir, "missing.txt"), is: fs.ErrNotExist},
		{name: "permission denied", file: unreadable, is: fs.ErrPermission, skip: os.Geteuid() == 0},
		{name: "directory", file: dir},
		{name: "position beyond end", file: short, offset: map[string]any{PositionField: int64(100)}},
		{name: "position of wrong type", file: short, offset: map[string]any{PositionField: "3"}},
		{name: "fractional position", file: short, offset: map[string]any{PositionField: 1.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip {
				t.Skip("root reads any file")
			}
			task := NewSourceTask()
			defer task.Stop()
			err := task.Start(context.Background(), fakeContext{tt.file: tt.offset},
				map[string]string{FileConfig: tt.file, TopicConfig: "lines"})
			if err == nil {
				_, err = task.Poll(context.Background())
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.file) {
				t.Errorf("error %q does not name %s", err, tt.file)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestSourceConfig(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		wantErr []string // substrings of the error; none when valid
	}{
		{name: "valid", props: map[string]string{FileConfig: "/tmp/x", TopicConfig: "t"}},
		{name: "topic list", props: map[string]string{FileConfig: "/tmp/x", TopicConfig: "a,b"},
			wantErr: []string{"Invalid value a,b for configuration topic: " + singleTopicMessage}},
		{name: "empty topic", props: map[string]string{FileConfig: "/tmp/x", TopicConfig: ""},
			wantErr: []string{"String must be non-empty"}},
		{name: "missing file and topic", props: map[string]string{},
			wantErr: []string{`Missing required configuration "file"`, `Missing required configuration "topic"`}},
		{name: "batch size zero", props: map[string]string{FileConfig: "/tmp/x", TopicConfig: "t", BatchSizeConfig: "0"},
			wantErr: []string{"Invalid value 0 for configuration batch.size: Value must be at least 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSourceConnector().Config().Parse(tt.props)
			checkConfigErr(t, err, tt.wantErr)
			err = NewSourceConnector().Start(context.Background(), nil, tt.props)
			checkConfigErr(t, err, tt.wantErr)
		})
	}
}

func checkConfigErr(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var verr *config.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error %v is not a *config.ValidationError", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

func TestSourceTaskConfigs(t *testing.T) {
	props := map[string]string{FileConfig: "/tmp/x", TopicConfig: "t"}
	c := NewSourceConnector()
	if err := c.Start(context.Background(), nil, props); err != nil {
		t.Fatal(err)
	}
	got, err := c.TaskConfigs(5)
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], props) {
		t.Fatalf("TaskConfigs(5) = %v, %v; want one copy of the connector config", got, err)
	}
}

func TestPlugins(t *testing.T) {
	r, err := connect.NewRegistry(Plugins()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{SourceClass, "FileStreamSource", "FileStreamSourceConnector", SinkClass, "FileStreamSink"} {
		if _, err := r.Connector(name); err != nil {
			t.Errorf("lookup %s: %v", name, err)
		}
	}
}

// A line longer than max.line.bytes does not grow the buffer past the
// limit (plus one read): it fails the task after the lines before it are
// delivered, or, with errors.tolerance=all, is skipped and the positions of
// the lines after it stay exact.
func TestSourceMaxLineBytes(t *testing.T) {
	huge := strings.Repeat("x", 4*readChunk+3) // read over several chunks
	tests := []struct {
		name      string
		content   string
		tolerance string
		want      []string
		wantPos   int64  // position of the last record; -1 when none
		wantErr   string // the Poll after the delivered lines fails with it
	}{
		{name: "at the limit", content: "0123456789\nab\n", want: []string{"0123456789", "ab"}, wantPos: 14},
		{name: "over the limit fails", content: "ok\n01234567890\nlater\n",
			want: []string{"ok"}, wantPos: 3, wantErr: "line at position 3 of file"},
		{name: "huge line fails", content: "ok\n" + huge + "\nlater\n",
			want: []string{"ok"}, wantPos: 3, wantErr: "longer than max.line.bytes=10 bytes"},
		{name: "unterminated huge line fails", content: huge,
			want: nil, wantPos: -1, wantErr: "line at position 0"},
		{name: "over the limit skipped", content: "ok\n01234567890\nlater\n", tolerance: "all",
			want: []string{"ok", "later"}, wantPos: 21},
		{name: "huge line skipped", content: "ok\n" + huge + "\r\nlater\n", tolerance: "all",
			want: []string{"ok", "later"}, wantPos: int64(3 + len(huge) + 2 + 6)},
		{name: "huge lines back to back skipped", content: huge + "\n" + huge + "\rlast\n", tolerance: "all",
			want: []string{"last"}, wantPos: int64(2*len(huge) + 2 + 5)},
		{name: "tolerance none fails", content: "01234567890\n", tolerance: "none",
			want: nil, wantPos: -1, wantErr: "errors.tolerance=all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.content)
			props := map[string]string{FileConfig: path, TopicConfig: "lines", MaxLineBytesConfig: "10"}
			if tt.tolerance != "" {
				props[connect.ErrorsToleranceConfig] = tt.tolerance
			}
			task := startSource(t, fakeContext{}, props)
			var got []string
			pos := int64(-1)
			var err error
			for range 100 {
				var recs []connect.SourceRecord
				recs, err = task.Poll(context.Background())
				if err != nil || len(recs) == 0 {
					break
				}
				for _, r := range recs {
					got = append(got, r.Value.(string))
					pos = r.Offset()[PositionField].(int64)
				}
			}
			if !reflect.DeepEqual(got, tt.want) || pos != tt.wantPos {
				t.Errorf("lines %q up to %d, want %q up to %d", got, pos, tt.want, tt.wantPos)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want one saying %q", err, tt.wantErr)
			}
			if c := cap(task.buf); c > 2*(10+1+readChunk) {
				t.Errorf("buffer grew to %d bytes", c)
			}
		})
	}
}

// nextLineByByte is nextLine as it was written first, one byte at a time:
// the reference TestNextLine holds nextLine to.
func nextLineByByte(b []byte) (line []byte, n int) {
	for i, c := range b {
		switch c {
		case '\n':
			return b[:i], i + 1
		case '\r':
			if i+1 >= len(b) {
				return nil, 0
			}
			if b[i+1] == '\n' {
				return b[:i], i + 2
			}
			return b[:i], i + 1
		}
	}
	return nil, 0
}

// TestNextLine compares nextLine with the byte-by-byte reference on every
// string of up to 8 bytes over "x", "\r" and "\n", and on a few long ones.
func TestNextLine(t *testing.T) {
	check := func(t *testing.T, b []byte) {
		t.Helper()
		line, n := nextLine(b)
		wantLine, wantN := nextLineByByte(b)
		if n != wantN || !bytes.Equal(line, wantLine) || (line == nil) != (wantLine == nil) {
			t.Fatalf("nextLine(%q) = %q, %d; want %q, %d", b, line, n, wantLine, wantN)
		}
	}
	alphabet := []byte("x\r\n")
	var all func(prefix []byte, left int)
	all = func(prefix []byte, left int) {
		check(t, prefix)
		if left == 0 {
			return
		}
		for _, c := range alphabet {
			all(append(prefix[:len(prefix):len(prefix)], c), left-1)
		}
	}
	all(nil, 8)

	long := strings.Repeat("x", 1000)
	for _, tt := range []struct {
		name    string
		content string
	}{
		{name: "long line", content: long + "\n" + long},
		{name: "long line, crlf", content: long + "\r\n"},
		{name: "long line, cr", content: long + "\r" + long},
		{name: "long line, final cr", content: long + "\r"},
		{name: "long, unterminated", content: long},
		{name: "lf far after cr", content: "a\r" + long + "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) { check(t, []byte(tt.content)) })
	}
}

// TestSourcePollAcrossReads holds Poll to a plain reference split of the
// file (nextLineByByte, invalid UTF-8 replaced) over lines of every length
// up to a few chunks, every terminator and some invalid UTF-8, with the file
// growing between polls mid-line and the task restarted from a committed
// position: each record's value and position must be the reference's, which
// checks that the values cut from a read's text stay aligned with the bytes
// consumed.
func TestSourcePollAcrossReads(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 7))
	var content []byte
	for range 3000 {
		n := rng.IntN(400)
		if rng.IntN(100) == 0 {
			n = rng.IntN(3 * readChunk)
		}
		for range n {
			switch c := rng.IntN(64); {
			case c == 0:
				content = append(content, 0xff) // invalid UTF-8
			case c == 1:
				content = append(content, "é"...)
			default:
				content = append(content, byte('a'+c%26))
			}
		}
		content = append(content, []string{"\n", "\n", "\r\n", "\r"}[rng.IntN(4)]...)
	}
	type line struct {
		value string
		pos   int64
	}
	var want []line
	for rest, pos := content, int64(0); ; {
		l, n := nextLineByByte(rest)
		if n == 0 {
			break
		}
		pos += int64(n)
		want = append(want, line{strings.ToValidUTF8(string(l), "\uFFFD"), pos})
		rest = rest[n:]
	}

	for _, tt := range []struct {
		name      string
		batchSize string
	}{
		{name: "batch of 1", batchSize: "1"},
		{name: "batch of 7", batchSize: "7"},
		{name: "default batch", batchSize: ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// The file is written in pieces that end mid-line; after half
			// of them a new task resumes from the last position seen.
			path := writeFile(t, "")
			props := map[string]string{FileConfig: path, TopicConfig: "lines"}
			if tt.batchSize != "" {
				props[BatchSizeConfig] = tt.batchSize
			}
			task := startSource(t, fakeContext{}, props)
			var got []line
			written := 0
			for piece := 0; written < len(content); piece++ {
				n := min(len(content)-written, 1+rng.IntN(2*readChunk))
				appendTo(t, path, string(content[written:written+n]))
				written += n
				if piece == 10 {
					last := int64(0)
					if len(got) > 0 {
						last = got[len(got)-1].pos
					}
					task = startSource(t, fakeContext{path: {PositionField: last}}, props)
				}
				for range 10000 {
					recs, err := task.Poll(context.Background())
					if err != nil {
						t.Fatalf("Poll: %v", err)
					}
					if len(recs) == 0 {
						break
					}
					for _, r := range recs {
						got = append(got, line{r.Value.(string), r.Offset()[PositionField].(int64)})
					}
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d records, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("record %d = %q at %d, want %q at %d", i, got[i].value, got[i].pos, want[i].value, want[i].pos)
				}
			}
		})
	}
}

// BenchmarkSourcePoll reads 100,000 lines of about 200 bytes with Poll
// (the default batch.size), one op per line: the task's own share of an
// ingest, without Kafka. B/op and allocs/op are per line.
func BenchmarkSourcePoll(b *testing.B) {
	line := `{"ordertime":1497014222380,"orderid":18,"itemid":"Item_184","orderunits":5.8,"address":{"city":"City_61","state":"State_33","zipcode":11542},"customer":"Customer_42","note":"` + strings.Repeat("x", 40) + `"}` + "\n"
	const lines = 100_000
	path := filepath.Join(b.TempDir(), "lines.jsonl")
	if err := os.WriteFile(path, []byte(strings.Repeat(line, lines)), 0o644); err != nil {
		b.Fatal(err)
	}
	props := map[string]string{FileConfig: path, TopicConfig: "lines"}
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	var task *SourceTask
	for i := 0; i < b.N; {
		if i%lines == 0 {
			if task != nil {
				task.Stop()
			}
			task = NewSourceTask()
			if err := task.Start(context.Background(), fakeContext{}, props); err != nil {
				b.Fatal(err)
			}
		}
		recs, err := task.Poll(context.Background())
		if err != nil || len(recs) == 0 {
			b.Fatalf("Poll: %d records, %v", len(recs), err)
		}
		i += len(recs)
	}
	task.Stop()
}
