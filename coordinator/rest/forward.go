package rest

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// forwardedHeaders are the request headers passed on to the leader. Connect's
// RestClient passes Authorization too; Sluice signs the request instead
// (Sign), so a caller's credentials stay with the coordinator that checked
// them.
var forwardedHeaders = []string{"Content-Type", "Accept"}

// relayedHeaders are the leader's response headers passed back to the client.
var relayedHeaders = []string{"Content-Type", "Location", "Allow"}

// forward sends a write to the leader at leaderURL and relays its answer, as
// Connect's HerderRequestHandler.completeOrForwardRequest does:
//
//   - a request without the forward parameter (from a client) is forwarded
//     with forward=true; one with forward=true (from a worker) is forwarded
//     once more with forward=false; one with forward=false is answered 409
//     ConflictMessage, so a request makes at most two hops;
//   - with no known leader the answer is 409 NoLeaderMessage;
//   - if the leader cannot be reached the answer is 500, with Connect's
//     "IO Error trying to forward REST request: ..." message.
//
// The method, path, other query parameters and body are sent unchanged.
func (s *server) forward(w http.ResponseWriter, r *http.Request, body []byte, leaderURL string) {
	q := r.URL.Query()
	fromWorker := q.Has("forward")
	if fromWorker && !strings.EqualFold(q.Get("forward"), "true") {
		s.log.ErrorContext(r.Context(), "Request failed because it could not find the leader within two hops",
			"method", r.Method, "path", r.URL.Path)
		writeErrorMessage(w, http.StatusConflict, ConflictMessage)
		return
	}
	if leaderURL == "" {
		writeErrorMessage(w, http.StatusConflict, NoLeaderMessage)
		return
	}
	q.Set("forward", strconv.FormatBool(!fromWorker))
	target := strings.TrimSuffix(leaderURL, "/") + r.URL.EscapedPath() + "?" + q.Encode()

	req, err := http.NewRequestWithContext(r.Context(), r.Method, target, bodyReader(body))
	if err != nil {
		s.writeError(w, r, &StatusError{StatusCode: http.StatusInternalServerError,
			Message: "IO Error trying to forward REST request: " + err.Error()})
		return
	}
	for _, h := range forwardedHeaders {
		if v := r.Header.Values(h); len(v) > 0 {
			req.Header[h] = v
		}
	}
	if len(body) > 0 && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.opts.Keys != nil {
		keys := s.opts.Keys.InterWorkerKeys()
		if len(keys) == 0 {
			writeErrorMessage(w, http.StatusConflict, "Cannot complete request momentarily: this worker has not read the cluster's session key yet, likely because a rebalance was underway.")
			return
		}
		if err := Sign(req, body, keys[0], s.opts.SignatureAlgorithm, time.Now()); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	s.log.DebugContext(r.Context(), "Forwarding request", "method", r.Method, "url", target)
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		s.writeError(w, r, &StatusError{StatusCode: http.StatusInternalServerError,
			Message: "IO Error trying to forward REST request: " + err.Error()})
		return
	}
	defer resp.Body.Close()
	for _, h := range relayedHeaders {
		if v := resp.Header.Values(h); len(v) > 0 {
			w.Header()[h] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil {
		s.log.WarnContext(r.Context(), "Relaying the leader's response failed", "url", target, "error", err)
	}
}
