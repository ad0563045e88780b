package coordinator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/properties"
)

// LoadConnectorFile reads a connector configuration from a Java properties
// file (as Connect's standalone mode takes) or a JSON file holding either
// the body of Connect's POST /connectors ({"name": ..., "config": {...}}) or
// a flat object of properties.
func LoadConnectorFile(path string) (map[string]string, error) {
	if !strings.EqualFold(filepath.Ext(path), ".json") {
		return properties.LoadFile(path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var body struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
	}
	if err := json.Unmarshal(b, &body); err == nil && body.Config != nil {
		if body.Name != "" {
			if n, ok := body.Config["name"]; ok && n != body.Name {
				return nil, fmt.Errorf("%s: connector name %q does not match config name %q", path, body.Name, n)
			}
			body.Config["name"] = body.Name
		}
		return body.Config, nil
	}
	var flat map[string]string
	if err := json.Unmarshal(b, &flat); err != nil {
		return nil, fmt.Errorf("%s: want {\"name\": ..., \"config\": {...}} or an object of string properties: %w", path, err)
	}
	return flat, nil
}

// fileRetryInterval is how long AddFile waits before trying again while no
// leader can take a connector file's configuration.
const fileRetryInterval = 500 * time.Millisecond

// AddFile creates or replaces the connector of a connector file (props,
// with its name) through whichever coordinator leads. It returns the
// leader's URL when another coordinator leads and took the configuration,
// "" when this one leads and wrote it. A follower forwards the
// configuration to the leader as a REST write is forwarded (PUT
// /connectors/{name}/config?forward=true). While no leader can take it (an
// election is under way, or the leader answers 409 or cannot be reached)
// AddFile calls waiting (if not nil) with the reason, the first time only,
// and tries again every fileRetryInterval until it succeeds or ctx ends.
// Any other error (an invalid configuration, a failed write) is returned
// at once.
func (c *Coordinator) AddFile(ctx context.Context, props map[string]string, waiting func(reason error)) (string, error) {
	name := props[connect.NameConfig]
	waited := false
	for {
		leader, err := c.addOrForward(ctx, name, props)
		var retry *retryError
		if !errors.As(err, &retry) {
			return leader, err
		}
		if !waited && waiting != nil {
			waiting(retry.reason)
		}
		waited = true
		c.log.Debug("connector file: no leader can take it yet; retrying", "connector", name, "reason", retry.reason)
		if !sleep(ctx, fileRetryInterval) {
			return "", fmt.Errorf("stopped before a leader took connector %s: %w (last: %w)", name, ctx.Err(), retry.reason)
		}
	}
}

// retryError is a connector file's configuration that no leader could take
// yet, for reason.
type retryError struct{ reason error }

func (e *retryError) Error() string { return e.reason.Error() }

// addOrForward writes props here when this coordinator leads, or forwards
// them to the leader; it returns the leader's URL when it forwarded.
func (c *Coordinator) addOrForward(ctx context.Context, name string, props map[string]string) (string, error) {
	err := c.Add(props)
	nl, ok := errors.AsType[*rest.NotLeaderError](err)
	switch {
	case !ok:
		return "", err
	case nl.LeaderURL == "":
		return "", &retryError{errors.New("no leader is known yet (an election is under way)")}
	}
	return nl.LeaderURL, c.forwardConfig(ctx, nl.LeaderURL, name, props)
}

// forwardConfig sends PUT /connectors/{name}/config to the leader at
// leaderURL, as a follower forwards a client's write (forward=true: the
// receiver forwards it once more if it no longer leads). A 409, a 5xx or
// no answer is a retryError.
func (c *Coordinator) forwardConfig(ctx context.Context, leaderURL, name string, props map[string]string) error {
	body, err := json.Marshal(props)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, rest.DefaultForwardTimeout)
	defer cancel()
	target := strings.TrimSuffix(leaderURL, "/") + "/connectors/" + url.PathEscape(name) + "/config?forward=true"
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	keys := c.InterWorkerKeys()
	if len(keys) == 0 {
		return &retryError{errors.New("the cluster's session key has not been read yet")}
	}
	if err := rest.Sign(req, body, keys[0], c.cfg.InterWorkerSignatureAlgorithm, time.Now()); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &retryError{fmt.Errorf("the leader %s cannot be reached: %w", leaderURL, err)}
	}
	defer resp.Body.Close()
	var answer struct {
		Message string `json:"message"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&answer)
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusConflict || resp.StatusCode >= 500:
		return &retryError{fmt.Errorf("the leader %s answered %s: %s", leaderURL, resp.Status, answer.Message)}
	}
	return fmt.Errorf("the leader %s answered %s: %s", leaderURL, resp.Status, answer.Message)
}
