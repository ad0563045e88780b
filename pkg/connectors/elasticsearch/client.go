package elasticsearch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// client talks to Elasticsearch or OpenSearch over plain HTTP: the bulk,
// index and data stream APIs the sink needs, with retries of 429, 5xx and
// unreachable nodes. It is safe for concurrent use: the task has up to
// max.in.flight.requests bulk requests in flight.
type client struct {
	s    settings
	http *http.Client
	url  atomic.Uint64 // index of the URL in use
}

func newClient(s settings) (*client, error) {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: s.connectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ResponseHeaderTimeout: s.readTimeout,
		MaxIdleConnsPerHost:   max(4, s.maxInFlight+1),
		IdleConnTimeout:       60 * time.Second,
		TLSHandshakeTimeout:   s.connectTimeout + time.Second,
	}
	if s.caFile != "" || s.ssl {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if s.caFile != "" {
			pem, err := os.ReadFile(s.caFile)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", SSLCAFileConfig, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: no PEM certificate in %s", SSLCAFileConfig, s.caFile)
			}
			cfg.RootCAs = pool
		}
		tr.TLSClientConfig = cfg
	}
	return &client{s: s, http: &http.Client{Transport: tr}}, nil
}

func (c *client) close() { c.http.CloseIdleConnections() }

// do sends one request to the URL in use and returns the status and body.
// A network error moves to the next URL for the next requests.
func (c *client) do(ctx context.Context, method, path string, body []byte, contentType string) (int, []byte, error) {
	at := c.url.Load()
	base := strings.TrimRight(c.s.urls[at%uint64(len(c.s.urls))], "/")
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.s.username != "" {
		req.SetBasicAuth(c.s.username, c.s.password.Value())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.url.CompareAndSwap(at, at+1) // once, when requests in flight fail together
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.url.CompareAndSwap(at, at+1) // once, when requests in flight fail together
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// call sends a request, retrying network errors, 429 and 5xx answers up to
// max.retries times with backoff. It returns the final status and body; an
// HTTPError for a 401 or 403 (never retried); a retriable error when
// retries ran out.
func (c *client) call(ctx context.Context, method, path string, body []byte, contentType string) (int, []byte, error) {
	var lastErr error
	for attempt := 0; ; attempt++ {
		status, b, err := c.do(ctx, method, path, body, contentType)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return 0, nil, ctx.Err()
			}
			lastErr = err
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return status, b, &HTTPError{Method: method, URL: path, Status: status, Body: reason(b)}
		case retriableStatus(status):
			lastErr = &HTTPError{Method: method, URL: path, Status: status, Body: reason(b)}
		default:
			return status, b, nil
		}
		if attempt >= c.s.maxRetries {
			return 0, nil, fmt.Errorf("%w after %d retries: %w", ErrRetriesExhausted, attempt, lastErr)
		}
		if err := sleep(ctx, backoff(c.s.backoff, attempt)); err != nil {
			return 0, nil, err
		}
	}
}

// backoff is the wait before retry attempt+1: base·2^attempt with ±25%
// jitter, at most a minute.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base << min(attempt, 20)
	if d <= 0 || d > time.Minute {
		d = time.Minute
	}
	return d - d/4 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// reason extracts error.type and error.reason from an error answer, or
// returns the body's start.
func reason(body []byte) string {
	var e struct {
		Error struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Type != "" {
		return e.Error.Type + ": " + e.Error.Reason
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// errorType returns the error.type of an error answer.
func errorType(body []byte) string {
	var e struct {
		Error struct {
			Type string `json:"type"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Type
}

// ensureIndex creates index with mapping unless it exists.
func (c *client) ensureIndex(ctx context.Context, index string, mapping map[string]any) error {
	status, _, err := c.call(ctx, http.MethodHead, "/"+index, nil, "")
	if err != nil {
		return err
	}
	if status == http.StatusOK {
		return nil
	}
	body, err := json.Marshal(map[string]any{"mappings": mapping})
	if err != nil {
		return err
	}
	status, b, err := c.call(ctx, http.MethodPut, "/"+index, body, "application/json")
	if err != nil {
		return err
	}
	if status/100 == 2 || errorType(b) == "resource_already_exists_exception" {
		return nil
	}
	return &HTTPError{Method: http.MethodPut, URL: "/" + index, Status: status, Body: reason(b)}
}

// ensureDataStream creates the data stream name unless it exists. When
// the server has no index template for it (OpenSearch has none; Elastic
// ships logs-*-* and metrics-*-*), it first creates one that matches only
// this name, with the lowest priority.
func (c *client) ensureDataStream(ctx context.Context, name string) error {
	status, _, err := c.call(ctx, http.MethodGet, "/_data_stream/"+name, nil, "")
	if err != nil {
		return err
	}
	if status == http.StatusOK {
		return nil
	}
	for attempt := 0; attempt < 2; attempt++ {
		status, b, err := c.call(ctx, http.MethodPut, "/_data_stream/"+name, nil, "")
		if err != nil {
			return err
		}
		if status/100 == 2 || errorType(b) == "resource_already_exists_exception" {
			return nil
		}
		if status == http.StatusMethodNotAllowed {
			// No route takes PUT /_data_stream/<name>.
			return fmt.Errorf("%w: %w", ErrNoDataStreams, &HTTPError{Method: http.MethodPut, URL: "/_data_stream/" + name, Status: status, Body: reason(b)})
		}
		if attempt > 0 || !strings.Contains(string(b), "template") {
			return &HTTPError{Method: http.MethodPut, URL: "/_data_stream/" + name, Status: status, Body: reason(b)}
		}
		tmpl, _ := json.Marshal(map[string]any{
			"index_patterns": []string{name},
			"data_stream":    map[string]any{},
			"priority":       0,
			"_meta":          map[string]any{"created_by": "sluice elasticsearch sink"},
		})
		status, b, err = c.call(ctx, http.MethodPut, "/_index_template/sluice-"+name, tmpl, "application/json")
		if err != nil {
			return err
		}
		if status/100 != 2 {
			return &HTTPError{Method: http.MethodPut, URL: "/_index_template/sluice-" + name, Status: status, Body: reason(b)}
		}
	}
	return errors.New("unreachable")
}
