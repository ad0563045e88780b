package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/proctest"
)

// SLUICE_ADMIN_LISTENERS is Connect's admin.listeners (KIP-495): set, the
// /admin/loggers endpoints are served on that listener only (404 on the
// REST listener, and the admin listener serves nothing else); set and
// empty, nowhere; unset, on the REST listener.
func TestAdminListeners(t *testing.T) {
	broker := startBroker(t)
	tests := []struct {
		name       string
		admin      *string // SLUICE_ADMIN_LISTENERS; nil leaves it unset
		mainStatus int
	}{
		{name: "unset", admin: nil, mainStatus: http.StatusOK},
		{name: "own listener", admin: new(string), mainStatus: http.StatusNotFound},
		{name: "empty turns it off", admin: new(string), mainStatus: http.StatusNotFound},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := proctest.FreeAddr(t)
			env := coordinatorEnv(broker, addr)
			env = append(env, fmt.Sprintf("SLUICE_GROUP_ID=admin-%d", i))
			adminAddr := ""
			if tc.admin != nil {
				if tc.name == "own listener" {
					adminAddr = proctest.FreeAddr(t)
					*tc.admin = "http://" + adminAddr
				}
				env = append(env, "SLUICE_ADMIN_LISTENERS="+*tc.admin)
			}
			p := startProcess(t, "admin-"+tc.name, addr, env)
			proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
				status, _, err := request(http.MethodGet, p.url()+"/connectors", nil)
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("status %d", status)
				}
				return err
			})
			mustRequest(t, http.MethodGet, p.url()+"/admin/loggers", nil, tc.mainStatus)
			mustRequest(t, http.MethodPut, p.url()+"/admin/loggers/org.example", map[string]string{"level": "DEBUG"}, tc.mainStatus)
			if adminAddr == "" {
				return
			}
			admin := "http://" + adminAddr
			mustRequest(t, http.MethodGet, admin+"/admin/loggers", nil, http.StatusOK)
			mustRequest(t, http.MethodPut, admin+"/admin/loggers/org.example", map[string]string{"level": "DEBUG"}, http.StatusOK)
			mustRequest(t, http.MethodGet, admin+"/admin/loggers/org.example", nil, http.StatusOK)
			mustRequest(t, http.MethodGet, admin+"/connectors", nil, http.StatusNotFound)
		})
	}
}
