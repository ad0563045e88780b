package optional

import (
	"slices"
	"testing"
)

// Each family's functions return plugins exactly when the family is built
// in; make test runs this with and without the tag sluice.slim.
func TestFamiliesMatchTheirPlugins(t *testing.T) {
	has := map[string]bool{
		"jdbc":       len(JDBCSources()) > 0 && len(JDBCSinks()) > 0,
		"cdc":        len(CDCSources()) > 0,
		"mqtt":       len(MQTTSources()) > 0 && len(MQTTSinks()) > 0,
		"search":     len(SearchSinks()) > 0,
		"protobuf":   len(Protobuf()) > 0,
		"jsonschema": len(JSONSchema()) > 0,
	}
	for _, f := range Families() {
		got, ok := has[f.Name]
		if !ok {
			t.Fatalf("family %s has no check here", f.Name)
		}
		if got != f.Included {
			t.Errorf("family %s: Included = %v, but its plugins are there: %v", f.Name, f.Included, got)
		}
		if slices.Contains(Excluded(), f.Name) == f.Included {
			t.Errorf("family %s: Excluded() = %v disagrees with Included = %v", f.Name, Excluded(), f.Included)
		}
	}
	if len(has) != len(Families()) {
		t.Errorf("%d families checked, %d declared", len(has), len(Families()))
	}
}
