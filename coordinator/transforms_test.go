package coordinator_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Built-in transforms and predicates through the whole pipeline: the source
// routes and enriches records, the sink keeps only some of them.
func TestPipelineWithTransforms(t *testing.T) {
	h := start(t)
	props := datagenProps(100)
	props["transforms"] = "route,tag"
	props["transforms.route.type"] = "org.apache.kafka.connect.transforms.RegexRouter"
	props["transforms.route.regex"] = "(.*)s"
	props["transforms.route.replacement"] = "$1-events"
	props["transforms.tag.type"] = "org.apache.kafka.connect.transforms.InsertField$Value"
	props["transforms.tag.static.field"] = "origin"
	props["transforms.tag.static.value"] = "sluice"
	if err := h.coord.Add(props); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.jsonl")
	err := h.coord.Add(map[string]string{
		"name": "sink", "connector.class": "FileStreamSink", "topics": "order-events", "file": out,
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		// Drop every record of a topic other than order-events: none, here,
		// so the negated predicate keeps all 100.
		"transforms": "keep", "transforms.keep.type": "org.apache.kafka.connect.transforms.Filter",
		"transforms.keep.predicate": "isOrders", "transforms.keep.negate": "true",
		"predicates": "isOrders", "predicates.isOrders.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"predicates.isOrders.pattern": "order-.*",
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "100 lines", func() bool { return len(readLines(out)) >= 100 })
	for _, line := range readLines(out) {
		// FileStreamSink writes Java's Map.toString of the schemaless value.
		if !strings.Contains(line, "origin=sluice") || !strings.Contains(line, "order_id=") {
			t.Fatalf("line %q lacks the inserted field", line)
		}
	}
}

func TestAddRejectsBadTransformConfig(t *testing.T) {
	h := start(t)
	props := datagenProps(1)
	props["transforms"] = "a,b,c"
	props["transforms.a.type"] = "org.apache.kafka.connect.transforms.Nope"
	props["transforms.b.type"] = "org.apache.kafka.connect.transforms.RegexRouter" // regex and replacement missing
	props["transforms.c.type"] = "org.apache.kafka.connect.transforms.Filter"
	props["transforms.c.predicate"] = "undefined"
	err := h.coord.Add(props)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"Class org.apache.kafka.connect.transforms.Nope could not be found", `"transforms.b.regex"`,
		`"transforms.b.replacement"`, "Predicate 'undefined' is not defined"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}
