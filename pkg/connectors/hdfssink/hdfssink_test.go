package hdfssink_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connectors/hdfssink"
)

// confluentExample is the configuration of Confluent's HDFS sink quick start.
func confluentExample() map[string]string {
	return map[string]string{
		"name": "hdfs-sink", "connector.class": "io.confluent.connect.hdfs.HdfsSinkConnector", "tasks.max": "1",
		"topics": "test_hdfs", "hdfs.url": "hdfs://localhost:9000", "flush.size": "3",
		"format.class": "io.confluent.connect.hdfs.parquet.ParquetFormat",
	}
}

func TestConfig(t *testing.T) {
	with := func(kv ...string) map[string]string {
		p := confluentExample()
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	without := func(keys ...string) map[string]string {
		p := confluentExample()
		for _, k := range keys {
			delete(p, k)
		}
		return p
	}
	tests := []struct {
		name    string
		props   map[string]string
		wantKey string
	}{
		{name: "Confluent's quick start", props: confluentExample()},
		{name: "store.url instead of hdfs.url", props: with("hdfs.url", "", "store.url", "hdfs://nn:8020/data")},
		{name: "format.class defaults to Parquet", props: without("format.class")},
		{name: "JSON format", props: with("format.class", "io.confluent.connect.hdfs.json.JsonFormat")},
		{name: "S3's format class names too", props: with("format.class", "io.confluent.connect.s3.format.json.JsonFormat")},
		{name: "no URL", props: without("hdfs.url"), wantKey: "hdfs.url"},
		{name: "an unknown format", props: with("format.class", "io.confluent.connect.hdfs.orc.OrcFormat"), wantKey: "format.class"},
		{name: "flush.size is required", props: without("flush.size"), wantKey: "flush.size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := hdfssink.NewConnector().Start(context.Background(), nil, tc.props)
			if tc.wantKey == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantKey) {
				t.Fatalf("Start error = %v, want one about %s", err, tc.wantKey)
			}
		})
	}
}

func TestFormatAliases(t *testing.T) {
	tests := []struct {
		name  string
		class string
		ext   string
	}{
		{name: "Confluent HDFS Parquet", class: hdfssink.ParquetFormatClass, ext: ".parquet"},
		{name: "Confluent HDFS JSON", class: hdfssink.JSONFormatClass, ext: ".json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := hdfssink.Options().NewFormat(tc.class, map[string]string{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(f.Extension(), tc.ext) {
				t.Fatalf("extension %q, want ...%s", f.Extension(), tc.ext)
			}
		})
	}
}

func TestEveryKeyDocumented(t *testing.T) {
	for _, k := range hdfssink.Config().Keys() {
		if k.Doc == "" {
			t.Errorf("key %s has no doc", k.Name)
		}
	}
	reg, err := connect.NewRegistry(hdfssink.Plugins()...)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := reg.Connector("io.confluent.connect.hdfs.HdfsSinkConnector"); err != nil || p.Class != hdfssink.Class {
		t.Fatalf("Confluent's class name finds %q, %v", p.Class, err)
	}
}
