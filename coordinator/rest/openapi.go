package rest

import (
	_ "embed"
	"net/http"
	"strconv"
)

// OpenAPI is the OpenAPI 3 document of the coordinator's REST API:
// Connect's endpoints, Sluice's own (/metrics, /openapi.json, the pull
// workers' /sluice/v1/leases/*) and the authentication schemes. It is
// served at GET /openapi.json; TestOpenAPIMatchesRoutes (package main of
// the coordinator) keeps it in step with the registered routes, and make
// test-openapi runs schemathesis against a coordinator with it.
//
//go:embed openapi.json
var OpenAPI []byte

// openAPI serves GET /openapi.json.
func (s *server) openAPI(w http.ResponseWriter, _ *http.Request, _ []byte) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(OpenAPI)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(OpenAPI)
	return nil
}
