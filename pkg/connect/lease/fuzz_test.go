package lease

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzResultJSON: a posted lease result (or a lease, as a worker reads
// one) decodes or fails; CheckFor never panics, and a result it accepts
// has the lease's identity and no negative count.
func FuzzResultJSON(f *testing.F) {
	f.Add([]byte(`{"lease_id":"l1","connector":"c","task":0,"epoch":3,"status":"succeeded","records":5,"bytes":7,"token":"t"}`))
	f.Add([]byte(`{"lease_id":"l1","connector":"c","task":0,"epoch":3,"status":"failed","records":-1}`))
	f.Add([]byte(`{"id":"l1","kind":"sink","connector":"c","deadline":"2026-01-01T00:00:00Z","budget":{"max_time":"30s","max_idle":1000},"ranges":[{"topic":"t","partition":0,"start":0,"end":5}]}`))
	l := Lease{ID: "l1", Connector: "c", Epoch: 3, Token: "t", Deadline: time.Now()}
	f.Fuzz(func(t *testing.T, b []byte) {
		var any Lease
		_ = json.Unmarshal(b, &any)
		var res Result
		if json.Unmarshal(b, &res) != nil {
			return
		}
		if res.CheckFor(l) != nil {
			return
		}
		if res.LeaseID != l.ID || res.Epoch != l.Epoch || res.Token != l.Token || res.Records < 0 || res.Bytes < 0 || res.Errors < 0 || res.DeadLettered < 0 {
			t.Fatalf("accepted %+v for %+v", res, l)
		}
	})
}
