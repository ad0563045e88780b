package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/sluicehq/sluice/pkg/connect"
)

// action is one document operation of a bulk request.
type action struct {
	rec       *connect.SinkRecord
	op        string // index, create, update or delete
	index     string
	id        string
	version   int64 // external version; 0 with versioned false
	versioned bool
	doc       []byte // the document (nil for delete)
	put       uint64 // the Put that made it (Task.puts)
}

// size is about how many bytes the action adds to a bulk body.
func (a *action) size() int { return len(a.doc) + len(a.index) + len(a.id) + 96 }

// appendTo writes the action's lines of the bulk body.
func (a *action) appendTo(b []byte) []byte {
	b = append(b, `{"`...)
	b = append(b, a.op...)
	b = append(b, `":{"_index":`...)
	b = appendJSONString(b, a.index)
	if a.id != "" {
		b = append(b, `,"_id":`...)
		b = appendJSONString(b, a.id)
	}
	if a.versioned {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, a.version, 10)
		b = append(b, `,"version_type":"external"`...)
	}
	b = append(b, "}}\n"...)
	switch a.op {
	case "delete":
	case "update":
		b = append(b, `{"doc":`...)
		b = append(b, a.doc...)
		b = append(b, ",\"doc_as_upsert\":true}\n"...)
	default:
		b = append(b, a.doc...)
		b = append(b, '\n')
	}
	return b
}

// appendJSONString appends s as a JSON string. Index names and IDs rarely
// need escaping: those of printable ASCII without quotes or backslashes go
// as they are, without json.Marshal's allocation.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// bulkResponse is the part of a bulk answer the sink reads.
type bulkResponse struct {
	Errors bool                        `json:"errors"`
	Items  []map[string]bulkItemResult `json:"items"`
}

type bulkItemResult struct {
	Index  string `json:"_index"`
	ID     string `json:"_id"`
	Status int    `json:"status"`
	Error  *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

// noErrors recognises the common answer {"took":N,"errors":false,...}
// without decoding its items.
func noErrors(body []byte) bool {
	head := body[:min(len(body), 64)]
	return bytes.Contains(head, []byte(`"errors":false`))
}

// outcome is what became of one action.
type outcome int

const (
	done     outcome = iota // written, or an older version skipped
	retry                   // 429 or 5xx: send again
	rejected                // the server refused the document
)

// classify decides an item's outcome. A version conflict means the index
// already holds this document at this or a newer version (a replay, or a
// create of a document already appended): the write is done.
func classify(it bulkItemResult) outcome {
	switch {
	case it.Status/100 == 2:
		return done
	case it.Status == http.StatusConflict && it.Error != nil && it.Error.Type == "version_conflict_engine_exception":
		return done
	case it.Status == http.StatusNotFound && it.Error == nil:
		return done // deleting a document that is not there
	case retriableStatus(it.Status):
		return retry
	default:
		return rejected
	}
}

// bulkPath is the bulk API with the answer filtered down to what the sink
// reads: errors, and each item's status and error. Every item keeps its
// status, so the items stay in the order of the actions.
const bulkPath = "/_bulk?filter_path=errors,items.*.status,items.*.error"

// rejection is a document the server refused.
type rejection struct {
	act *action
	err *DocumentError
}

// request is one bulk request: built on the task's goroutine, sent on a
// goroutine of its own, and read back by the task's goroutine once done is
// closed.
type request struct {
	acts []*action
	body []byte
	done chan struct{}
	// The outcome: the documents the server refused; with err, the
	// actions to send again.
	refused []rejection
	left    []*action
	err     error
}

// bulk writes acts in bulk requests, retrying the documents that got 429
// or 5xx, and returns the documents the server refused and, with an error,
// those not known to be written (to send again). body holds acts' bulk
// body already; it is reused for the retries. A request too large for the
// server (413) is split in halves; a single document too large is refused.
// It does not touch the task's state, so requests can be in flight
// together.
func (t *Task) bulk(ctx context.Context, acts []*action, body *[]byte) (refused []rejection, left []*action, err error) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			*body = (*body)[:0]
			for _, a := range acts {
				*body = a.appendTo(*body)
			}
		}
		status, answer, err := t.client.call(ctx, http.MethodPost, bulkPath, *body, "application/x-ndjson")
		if err != nil {
			return refused, acts, t.requestError(err)
		}
		if status == http.StatusRequestEntityTooLarge {
			if len(acts) == 1 {
				return append(refused, rejection{acts[0], &DocumentError{Index: acts[0].index, ID: acts[0].id, Status: status,
					Type: "request_entity_too_large", Reason: fmt.Sprintf("the document (%d bytes) is larger than the server accepts (http.max_content_length)", len(acts[0].doc))}}), nil, nil
			}
			half := len(acts) / 2
			for i, part := range [][]*action{acts[:half], acts[half:]} {
				*body = (*body)[:0]
				for _, a := range part {
					*body = a.appendTo(*body)
				}
				r, l, err := t.bulk(ctx, part, body)
				refused = append(refused, r...)
				if err != nil {
					if i == 0 {
						l = append(l, acts[half:]...)
					}
					return refused, l, err
				}
			}
			return refused, nil, nil
		}
		if status/100 != 2 {
			return refused, acts, &HTTPError{Method: http.MethodPost, URL: "/_bulk", Status: status, Body: reason(answer)}
		}
		if noErrors(answer) {
			return refused, nil, nil
		}
		var resp bulkResponse
		if err := json.Unmarshal(answer, &resp); err != nil {
			return refused, acts, fmt.Errorf("reading the bulk response: %w", err)
		}
		if len(resp.Items) != len(acts) {
			return refused, acts, fmt.Errorf("the bulk response has %d items for %d documents", len(resp.Items), len(acts))
		}
		var again []*action
		var lastRetry string
		for i, item := range resp.Items {
			var it bulkItemResult
			for _, v := range item {
				it = v
			}
			switch classify(it) {
			case retry:
				again = append(again, acts[i])
				lastRetry = fmt.Sprintf("status %d", it.Status)
				if it.Error != nil {
					lastRetry += ": " + it.Error.Type + ": " + it.Error.Reason
				}
			case rejected:
				de := &DocumentError{Index: acts[i].index, ID: acts[i].id, Status: it.Status}
				if it.Error != nil {
					de.Type, de.Reason = it.Error.Type, it.Error.Reason
				}
				refused = append(refused, rejection{acts[i], de})
			}
		}
		if len(again) == 0 {
			return refused, nil, nil
		}
		if attempt >= t.s.maxRetries {
			return refused, again, connect.Retriable(fmt.Errorf("%w: %d documents still failed after %d retries (last %s)", ErrRetriesExhausted, len(again), attempt, lastRetry))
		}
		if err := sleep(ctx, backoff(t.s.backoff, attempt)); err != nil {
			return refused, again, err
		}
		acts = again
	}
}
