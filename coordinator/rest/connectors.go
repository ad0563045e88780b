package rest

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// healthyMessage is Connect's WorkerStatus.healthy() message.
const healthyMessage = "Worker has completed startup and is ready to handle requests."

// serverInfo serves GET /, Connect's RootResource.serverInfo.
func (s *server) serverInfo(w http.ResponseWriter, r *http.Request, _ []byte) error {
	id, err := s.herder.KafkaClusterID(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ServerInfo{Version: s.opts.Version, Commit: s.opts.Commit, KafkaClusterID: id})
}

// health serves GET /health, Connect's RootResource.healthCheck (KIP-1017).
func (s *server) health(w http.ResponseWriter, r *http.Request, _ []byte) error {
	if hc, ok := s.herder.(HealthChecker); ok {
		if err := hc.HealthCheck(r.Context()); err != nil {
			return writeJSON(w, http.StatusInternalServerError, WorkerStatus{
				Status:  "unhealthy",
				Message: "Worker was unable to handle this request and may be unable to handle other requests. " + err.Error(),
			})
		}
	}
	return writeJSON(w, http.StatusOK, WorkerStatus{Status: "healthy", Message: healthyMessage})
}

// listConnectors serves GET /connectors[?expand=status&expand=info]. As in
// Connect, any expand parameter (even an empty or unknown one) switches to
// the map form, unknown expansions are ignored, and a connector deleted
// while the list is built is left out.
func (s *server) listConnectors(w http.ResponseWriter, r *http.Request, _ []byte) error {
	ctx := r.Context()
	names, err := s.herder.Connectors(ctx)
	if err != nil {
		return err
	}
	expansions, expand := r.URL.Query()["expand"]
	if !expand {
		if names == nil {
			names = []string{}
		}
		return writeJSON(w, http.StatusOK, names)
	}
	out := make(map[string]map[string]any, len(names))
	for _, name := range names {
		expanded, err := s.expand(r, name, expansions)
		if _, gone := errors.AsType[*NotFoundError](err); gone {
			continue
		}
		if err != nil {
			return err
		}
		out[name] = expanded
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *server) expand(r *http.Request, name string, expansions []string) (map[string]any, error) {
	out := make(map[string]any, len(expansions))
	for _, e := range expansions {
		switch e {
		case "status":
			st, err := s.herder.ConnectorStatus(r.Context(), name)
			if err != nil {
				return nil, err
			}
			out["status"] = st
		case "info":
			info, err := s.herder.ConnectorInfo(r.Context(), name)
			if err != nil {
				return nil, err
			}
			out["info"] = info
		default:
			s.log.InfoContext(r.Context(), "Ignoring unknown expansion type", "expansion", e)
		}
	}
	return out, nil
}

// createConnector serves POST /connectors: 201 with Location and the new
// connector's ConnectorInfo.
func (s *server) createConnector(w http.ResponseWriter, r *http.Request, body []byte) error {
	req, err := decodeCreateRequest(body)
	if err != nil {
		return err
	}
	// Connect trims the name and treats a missing one as "", leaving the
	// herder's validation to reject it.
	name := strings.TrimSpace(req.Name)
	if err := checkAndPutName(name, req.Config); err != nil {
		return err
	}
	state, err := normalizeInitialState(req.InitialState)
	if err != nil {
		return err
	}
	_, info, err := s.herder.PutConnectorConfig(r.Context(), name, req.Config, false, state)
	if err != nil {
		return err
	}
	w.Header().Set("Location", connectorLocation(name))
	return writeJSON(w, http.StatusCreated, info)
}

// checkAndPutName is Connect's checkAndPutConnectorConfigName: a "name" in
// the configuration must equal the connector's name, and is added if absent.
func checkAndPutName(name string, cfg map[string]string) error {
	if included, ok := cfg["name"]; ok {
		if included != name {
			return &BadRequestError{Message: "Connector name configuration (" + included +
				") doesn't match connector name in the URL (" + name + ")"}
		}
		return nil
	}
	cfg["name"] = name
	return nil
}

func connectorLocation(name string) string {
	return "/connectors/" + url.PathEscape(name)
}

// getConnector serves GET /connectors/{name}.
func (s *server) getConnector(w http.ResponseWriter, r *http.Request, _ []byte) error {
	info, err := s.herder.ConnectorInfo(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}

// deleteConnector serves DELETE /connectors/{name}: 204.
func (s *server) deleteConnector(w http.ResponseWriter, r *http.Request, _ []byte) error {
	if err := s.herder.DeleteConnector(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	return writeEmpty(w, http.StatusNoContent)
}

// getConnectorConfig serves GET /connectors/{name}/config. Values are shown
// as submitted, passwords included, as Connect does.
func (s *server) getConnectorConfig(w http.ResponseWriter, r *http.Request, _ []byte) error {
	cfg, err := s.herder.ConnectorConfig(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if cfg == nil {
		cfg = map[string]string{}
	}
	return writeJSON(w, http.StatusOK, cfg)
}

// putConnectorConfig serves PUT /connectors/{name}/config: 201 with Location
// when it creates the connector, 200 when it replaces the configuration.
func (s *server) putConnectorConfig(w http.ResponseWriter, r *http.Request, body []byte) error {
	name := r.PathValue("name")
	cfg, err := decodeStrings(body)
	if err != nil {
		return err
	}
	if err := checkAndPutName(name, cfg); err != nil {
		return err
	}
	created, info, err := s.herder.PutConnectorConfig(r.Context(), name, cfg, true, "")
	if err != nil {
		return err
	}
	if created {
		w.Header().Set("Location", connectorLocation(name))
		return writeJSON(w, http.StatusCreated, info)
	}
	return writeJSON(w, http.StatusOK, info)
}

// patchConnectorConfig serves PATCH /connectors/{name}/config: null removes a
// key; 200 with the new ConnectorInfo.
func (s *server) patchConnectorConfig(w http.ResponseWriter, r *http.Request, body []byte) error {
	name := r.PathValue("name")
	patch, err := decodeConfig(body, true)
	if err != nil {
		return err
	}
	// Connect leaves this to the herder's validation; checking here keeps a
	// patch from renaming a connector whatever the herder does.
	if v, ok := patch["name"]; ok && v != nil && *v != name {
		return &BadRequestError{Message: "Connector name configuration (" + *v +
			") doesn't match connector name in the URL (" + name + ")"}
	}
	info, err := s.herder.PatchConnectorConfig(r.Context(), name, patch)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}

// connectorStatus serves GET /connectors/{name}/status.
func (s *server) connectorStatus(w http.ResponseWriter, r *http.Request, _ []byte) error {
	st, err := s.herder.ConnectorStatus(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

// taskConfigs serves GET /connectors/{name}/tasks.
func (s *server) taskConfigs(w http.ResponseWriter, r *http.Request, _ []byte) error {
	tasks, err := s.herder.TaskConfigs(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if tasks == nil {
		tasks = []TaskInfo{}
	}
	return writeJSON(w, http.StatusOK, tasks)
}

// taskID reads {name} and {task}. A task that is not an integer is Jersey's
// 404 for a path parameter it cannot convert.
func taskID(r *http.Request) (TaskID, error) {
	n, err := strconv.ParseInt(r.PathValue("task"), 10, 32)
	if err != nil {
		return TaskID{}, &NotFoundError{Message: "HTTP 404 Not Found"}
	}
	return TaskID{Connector: r.PathValue("name"), Task: int(n)}, nil
}

// taskStatus serves GET /connectors/{name}/tasks/{task}/status.
func (s *server) taskStatus(w http.ResponseWriter, r *http.Request, _ []byte) error {
	id, err := taskID(r)
	if err != nil {
		return err
	}
	st, err := s.herder.TaskStatus(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

// restartTask serves POST /connectors/{name}/tasks/{task}/restart: 204.
func (s *server) restartTask(w http.ResponseWriter, r *http.Request, _ []byte) error {
	id, err := taskID(r)
	if err != nil {
		return err
	}
	if err := s.herder.RestartTask(r.Context(), id); err != nil {
		return err
	}
	return writeEmpty(w, http.StatusNoContent)
}

// restartConnector serves POST /connectors/{name}/restart: 204 for a plain
// restart, 202 with the ConnectorStateInfo when includeTasks or onlyFailed.
func (s *server) restartConnector(w http.ResponseWriter, r *http.Request, _ []byte) error {
	q := r.URL.Query()
	includeTasks := queryBool(q, "includeTasks", false)
	onlyFailed := queryBool(q, "onlyFailed", false)
	st, err := s.herder.RestartConnector(r.Context(), r.PathValue("name"), includeTasks, onlyFailed)
	if err != nil {
		return err
	}
	if st == nil {
		return writeEmpty(w, http.StatusNoContent)
	}
	return writeJSON(w, http.StatusAccepted, st)
}

// queryBool reads a Boolean query parameter as JAX-RS does
// (Boolean.valueOf): "true" in any case is true, anything else false; an
// absent or empty parameter takes def.
func queryBool(q url.Values, key string, def bool) bool {
	v := q.Get(key)
	if v == "" {
		return def
	}
	return strings.EqualFold(v, "true")
}

// pauseConnector serves PUT /connectors/{name}/pause: 202.
func (s *server) pauseConnector(w http.ResponseWriter, r *http.Request, _ []byte) error {
	if err := s.herder.PauseConnector(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	return writeEmpty(w, http.StatusAccepted)
}

// resumeConnector serves PUT /connectors/{name}/resume: 202.
func (s *server) resumeConnector(w http.ResponseWriter, r *http.Request, _ []byte) error {
	if err := s.herder.ResumeConnector(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	return writeEmpty(w, http.StatusAccepted)
}

// stopConnector serves PUT /connectors/{name}/stop: 204.
func (s *server) stopConnector(w http.ResponseWriter, r *http.Request, _ []byte) error {
	if err := s.herder.StopConnector(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	return writeEmpty(w, http.StatusNoContent)
}

// fenceZombies serves PUT /connectors/{name}/fence: 204 once every older
// invocation of the source connector's tasks is fenced (KIP-618).
func (s *server) fenceZombies(w http.ResponseWriter, r *http.Request, _ []byte) error {
	if err := s.herder.FenceZombies(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	return writeEmpty(w, http.StatusNoContent)
}

// activeTopics serves GET /connectors/{name}/topics: {"<name>":{"topics":[...]}}.
func (s *server) activeTopics(w http.ResponseWriter, r *http.Request, _ []byte) error {
	name := r.PathValue("name")
	info, err := s.herder.ConnectorActiveTopics(r.Context(), name)
	if err != nil {
		return err
	}
	if info.Connector == "" {
		info.Connector = name
	}
	return writeJSON(w, http.StatusOK, map[string]ActiveTopicsInfo{info.Connector: info})
}

// resetActiveTopics serves PUT /connectors/{name}/topics/reset: 202.
func (s *server) resetActiveTopics(w http.ResponseWriter, r *http.Request, _ []byte) error {
	if err := s.herder.ResetConnectorActiveTopics(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	return writeEmpty(w, http.StatusAccepted)
}

// getOffsets serves GET /connectors/{name}/offsets.
func (s *server) getOffsets(w http.ResponseWriter, r *http.Request, _ []byte) error {
	offsets, err := s.herder.ConnectorOffsets(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, offsets)
}

// alterOffsets serves PATCH /connectors/{name}/offsets: 200 with a Message.
func (s *server) alterOffsets(w http.ResponseWriter, r *http.Request, body []byte) error {
	offsets, err := decodeOffsets(body)
	if err != nil {
		return err
	}
	if len(offsets.Offsets) == 0 {
		return &BadRequestError{Message: "Partitions / offsets need to be provided for an alter offsets request"}
	}
	msg, err := s.herder.AlterConnectorOffsets(r.Context(), r.PathValue("name"), offsets)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, msg)
}

// resetOffsets serves DELETE /connectors/{name}/offsets: 200 with a Message.
func (s *server) resetOffsets(w http.ResponseWriter, r *http.Request, _ []byte) error {
	msg, err := s.herder.ResetConnectorOffsets(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, msg)
}
