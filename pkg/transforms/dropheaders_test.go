package transforms

import (
	"slices"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestDropHeaders(t *testing.T) {
	headers := func(keys ...string) connect.Headers {
		var h connect.Headers
		for _, k := range keys {
			h.Add(k, data.StringSchema, k+"-value")
		}
		return h
	}
	tests := []struct {
		name    string
		drop    string
		headers connect.Headers
		want    []string
	}{
		{name: "drop existing (DropHeadersTest)", drop: "dropped", headers: headers("dropped", "kept"), want: []string{"kept"}},
		{name: "drop every duplicate", drop: "dropped", headers: headers("dropped", "kept", "dropped"), want: []string{"kept"}},
		{name: "drop several", drop: "a,b", headers: headers("a", "b", "c"), want: []string{"c"}},
		{name: "drop missing (DropHeadersTest)", drop: "missing", headers: headers("dropped", "kept"), want: []string{"dropped", "kept"}},
		{name: "no headers", drop: "a", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := NewDropHeaders()
			routingConfigure(t, x, map[string]string{"headers": tt.drop})
			before := slices.Clone(tt.headers)
			out, keep, err := routingApply(t, x, connect.TransformRecord{Record: connect.Record{Topic: "t", Headers: tt.headers}})
			if err != nil || !keep {
				t.Fatalf("Apply = %v, %v", keep, err)
			}
			got := []string{}
			for _, h := range out.Headers {
				got = append(got, h.Key)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("headers = %v, want %v", got, tt.want)
			}
			if !slices.Equal(before, tt.headers) {
				t.Errorf("input headers changed to %v", tt.headers)
			}
		})
	}
}
