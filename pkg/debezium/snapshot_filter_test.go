package debezium_test

import (
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/debezium"
)

func TestSnapshotMarker(t *testing.T) {
	tests := []struct {
		name string
		pos  debezium.SnapshotPosition
		want string
	}{
		{name: "middle", want: "true"},
		{name: "first of all", pos: debezium.SnapshotPosition{First: true, FirstOfTable: true}, want: "first"},
		{name: "last of all wins", pos: debezium.SnapshotPosition{First: true, Last: true, LastOfTable: true}, want: "last"},
		{name: "first of a table", pos: debezium.SnapshotPosition{FirstOfTable: true}, want: "first_in_data_collection"},
		{name: "first and last of a table", pos: debezium.SnapshotPosition{FirstOfTable: true, LastOfTable: true}, want: "last_in_data_collection"},
		{name: "last of a table", pos: debezium.SnapshotPosition{LastOfTable: true}, want: "last_in_data_collection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.pos.Marker(); got != tt.want {
				t.Fatalf("Marker() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFilterList(t *testing.T) {
	const key = "table.include.list"
	def := config.NewDef().Define(config.Key{Name: key, Type: config.List, Default: "", Doc: "tables"})
	tests := []struct {
		name     string
		value    string
		match    []string
		noMatch  []string
		problems int
	}{
		{name: "whole names only", value: "inventory\\.orders, public\\..*",
			match: []string{"inventory.orders", "public.x"}, noMatch: []string{"inventory.orders2", "xpublic.x"}},
		{name: "a bad expression is a problem, the others stay", value: "a(, b", match: []string{"b"}, noMatch: []string{"a("}, problems: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, err := def.Parse(map[string]string{key: tt.value})
			if err != nil {
				t.Fatal(err)
			}
			var problems []config.Problem
			res := debezium.FilterList(vals, key, &problems)
			if len(problems) != tt.problems {
				t.Fatalf("problems %v, want %d", problems, tt.problems)
			}
			for _, p := range problems {
				if p.Key != key {
					t.Errorf("problem on %q, want %q", p.Key, key)
				}
			}
			matches := func(s string) bool {
				for _, re := range res {
					if re.MatchString(s) {
						return true
					}
				}
				return false
			}
			for _, s := range tt.match {
				if !matches(s) {
					t.Errorf("%q not matched", s)
				}
			}
			for _, s := range tt.noMatch {
				if matches(s) {
					t.Errorf("%q matched", s)
				}
			}
		})
	}
}
