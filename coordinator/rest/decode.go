package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Request bodies are decoded as Connect's Jackson provider decodes them:
// configuration maps (Map<String, String>) accept strings and coerce
// numbers and booleans to their text ("tasks.max": 1 works), and entity
// bodies reject unknown properties. Unlike Connect, which answers 500 with
// Jackson's message for both malformed JSON and unknown properties, these
// are answered 400 with a message that names the problem.

// badJSON reports a body that is not the JSON expected.
func badJSON(format string, args ...any) *BadRequestError {
	return &BadRequestError{Message: fmt.Sprintf(format, args...)}
}

// decodeObject splits a JSON object into its members. A body that is empty,
// null or not an object is a BadRequestError.
func decodeObject(body []byte, entity string) (map[string]json.RawMessage, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, badJSON("Cannot deserialize %s from JSON %s: the request body must be a JSON object", entity, typeErr.Value)
		}
		return nil, badJSON("Request body is not valid JSON: %v", err)
	}
	if members == nil {
		return nil, badJSON("Request body must be a JSON object (%s), not null or empty", entity)
	}
	return members, nil
}

// decodeConfig decodes a Map<String, String> body such as a connector
// configuration. Null values are kept as nil only when allowNull (PATCH);
// otherwise they are rejected.
func decodeConfig(body []byte, allowNull bool) (map[string]*string, error) {
	members, err := decodeObject(body, "a configuration map of strings")
	if err != nil {
		return nil, err
	}
	return configFromMembers(members, allowNull)
}

func configFromMembers(members map[string]json.RawMessage, allowNull bool) (map[string]*string, error) {
	out := make(map[string]*string, len(members))
	for k, raw := range members {
		v, err := coerceString(raw)
		if err != nil {
			return nil, badJSON("Cannot deserialize the value of configuration %q as a string: %v", k, err)
		}
		if v == nil && !allowNull {
			return nil, badJSON("The value of configuration %q must not be null", k)
		}
		out[k] = v
	}
	return out, nil
}

// decodeStrings is decodeConfig without nulls, as a plain map.
func decodeStrings(body []byte) (map[string]string, error) {
	m, err := decodeConfig(body, false)
	if err != nil {
		return nil, err
	}
	return derefAll(m), nil
}

func derefAll(m map[string]*string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = *v
	}
	return out
}

// coerceString reads a JSON scalar as Jackson reads it into a String:
// strings as they are, numbers and booleans as their JSON text, null as nil.
func coerceString(raw json.RawMessage) (*string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, fmt.Errorf("no value")
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return &s, nil
	case c == 'n':
		return nil, nil
	case c == 't', c == 'f', c == '-', c >= '0' && c <= '9':
		s := string(raw)
		return &s, nil
	case c == '{':
		return nil, fmt.Errorf("found an object")
	case c == '[':
		return nil, fmt.Errorf("found an array")
	default:
		return nil, fmt.Errorf("unexpected %q", raw)
	}
}

// createRequestFields are CreateConnectorRequest's properties, in Connect's order.
var createRequestFields = []string{"name", "config", "initial_state"}

// decodeCreateRequest decodes POST /connectors. Like Connect it rejects
// unknown properties, which catches the common mistake of posting a bare
// configuration map; the message follows Jackson's so users find the usual
// answers.
func decodeCreateRequest(body []byte) (CreateConnectorRequest, error) {
	var req CreateConnectorRequest
	members, err := decodeObject(body, "CreateConnectorRequest")
	if err != nil {
		return req, err
	}
	for _, k := range sortedKeys(members) {
		if !slices.Contains(createRequestFields, k) {
			return req, badJSON(`Unrecognized field %q (class CreateConnectorRequest), not marked as ignorable (3 known properties: "name", "config", "initial_state")`, k)
		}
	}
	if raw, ok := members["name"]; ok {
		name, err := coerceString(raw)
		if err != nil {
			return req, badJSON("Cannot deserialize the connector name as a string: %v", err)
		}
		if name != nil {
			req.Name = *name
		}
	}
	raw, ok := members["config"]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return req, badJSON("The connector configuration (\"config\") is required")
	}
	cfgMembers, err := decodeObject(raw, "the connector configuration")
	if err != nil {
		return req, err
	}
	cfg, err := configFromMembers(cfgMembers, false)
	if err != nil {
		return req, err
	}
	req.Config = derefAll(cfg)
	if raw, ok := members["initial_state"]; ok {
		state, err := coerceString(raw)
		if err != nil {
			return req, badJSON("Cannot deserialize initial_state as a string: %v", err)
		}
		if state != nil {
			req.InitialState = *state
		}
	}
	return req, nil
}

// initialStates are Connect's CreateConnectorRequest.InitialState values.
var initialStates = []string{"RUNNING", "PAUSED", "STOPPED"}

// normalizeInitialState upper-cases s, as Connect's InitialState.forValue
// does, and rejects anything else.
func normalizeInitialState(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	up := strings.ToUpper(s)
	if !slices.Contains(initialStates, up) {
		return "", badJSON("Invalid initial_state %q: must be one of RUNNING, PAUSED, STOPPED", s)
	}
	return up, nil
}

// decodeOffsets decodes PATCH /connectors/{name}/offsets. Numbers stay
// json.Number so Kafka offsets above 2^53 keep their value.
func decodeOffsets(body []byte) (ConnectorOffsets, error) {
	var offsets ConnectorOffsets
	if _, err := decodeObject(body, "ConnectorOffsets"); err != nil {
		return offsets, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&offsets); err != nil {
		return offsets, badJSON("Request body is not a valid ConnectorOffsets: %v", err)
	}
	for _, o := range offsets.Offsets {
		// Connect refuses these too, per connector type (SinkUtils,
		// Worker's source offset checks); Sluice, before the herder.
		if o.Partition == nil {
			return offsets, badJSON("The partition for a connector offset cannot be null or missing")
		}
	}
	return offsets, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
