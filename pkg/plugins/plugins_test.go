package plugins

import (
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
)

func TestLookupByEveryName(t *testing.T) {
	r := Registry()
	tests := []struct {
		name, lookup, want string
		kind               connect.Kind
	}{
		{"full source class", "org.apache.kafka.connect.file.FileStreamSourceConnector", "org.apache.kafka.connect.file.FileStreamSourceConnector", ""},
		{"simple name", "FileStreamSourceConnector", "org.apache.kafka.connect.file.FileStreamSourceConnector", ""},
		{"pruned name", "FileStreamSink", "org.apache.kafka.connect.file.FileStreamSinkConnector", ""},
		{"datagen", "Datagen", "io.sluice.connect.datagen.DatagenConnector", ""},
		{"confluent datagen alias", "io.confluent.kafka.connect.datagen.DatagenConnector", "io.sluice.connect.datagen.DatagenConnector", ""},
		{"json converter", "org.apache.kafka.connect.json.JsonConverter", "org.apache.kafka.connect.json.JsonConverter", connect.KindConverter},
		{"json converter simple", "JsonConverter", "org.apache.kafka.connect.json.JsonConverter", connect.KindConverter},
		{"string converter as header converter", "org.apache.kafka.connect.storage.StringConverter", "org.apache.kafka.connect.storage.StringConverter", connect.KindHeaderConverter},
		{"simple header converter", "SimpleHeaderConverter", "org.apache.kafka.connect.storage.SimpleHeaderConverter", connect.KindHeaderConverter},
		{"byte array converter", "ByteArrayConverter", "org.apache.kafka.connect.converters.ByteArrayConverter", connect.KindConverter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := r.Lookup(tt.kind, tt.lookup)
			if err != nil {
				t.Fatal(err)
			}
			if p.Class != tt.want {
				t.Fatalf("Lookup(%q) = %s, want %s", tt.lookup, p.Class, tt.want)
			}
		})
	}
	if _, err := r.Connector("NoSuchConnector"); err == nil {
		t.Fatal("unknown connector found")
	}
}

func TestEveryConnectorDeclaresValidConfig(t *testing.T) {
	for _, p := range Registry().Plugins(connect.KindSource, connect.KindSink) {
		t.Run(p.Class, func(t *testing.T) {
			def := connect.ConnectorConfig(p)
			if len(def.Keys()) == 0 {
				t.Fatal("no keys")
			}
			for _, k := range def.Keys() {
				if k.Doc == "" {
					t.Errorf("key %s has no documentation", k.Name)
				}
			}
		})
	}
}
