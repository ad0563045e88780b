// Command registrycompat checks that Confluent's Python deserializers read
// what Sluice's converters write. It serves franz-go's in-process Schema
// Registry (srfake) on loopback, seeds it with the schemas of the golden
// vectors that Confluent's Python serializers wrote (testdata/vectors.json
// of the Avro and JSON Schema converters), reads each vector with Sluice's
// converter and writes the value back with it (registering Sluice's own
// schema), then runs check.py, which deserializes both the original and
// Sluice's bytes with confluent-kafka's AvroDeserializer, JSONDeserializer
// and ProtobufDeserializer over HTTP and requires the same values (for
// Protobuf, with message classes that grpcio-tools' protoc generates from
// the .proto files: the vectors' and the one Sluice registered).
//
//	go run ./internal/registrycompat PYTHON   (make test-registry-compat)
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter/avro"
	"github.com/sluicehq/sluice/pkg/connect/converter/jsonschema"
	"github.com/sluicehq/sluice/pkg/connect/converter/protobuf"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

type vector struct {
	Name, Subject, Schema, Hex string
	ID                         int
}

type pair struct {
	Format   string `json:"format"`
	Name     string `json:"name"`
	Original string `json:"original"`
	Sluice   string `json:"sluice"`
	// The topics the bytes were written for (the deserializers look the
	// id up under the topic's subject).
	OriginalTopic string `json:"original_topic"`
	SluiceTopic   string `json:"sluice_topic"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "registrycompat:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: registrycompat PYTHON")
	}
	reg := srfake.NewRegistry()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: reg.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String()

	formats := []struct {
		name, dir string
		typ       sr.SchemaType
		conv      connect.Converter
		// idOffset keeps the formats' ids apart in the one registry (the
		// vectors' ids each start at 1); the original bytes are rewritten
		// to match.
		idOffset int
	}{
		{"avro", "pkg/connect/converter/avro/testdata", sr.TypeAvro, avro.New(), 0},
		{"json", "pkg/connect/converter/jsonschema/testdata", sr.TypeJSON, jsonschema.New(), 100},
		{"protobuf", "pkg/connect/converter/protobuf/testdata", sr.TypeProtobuf, protobuf.New(), 200},
	}
	var pairs []pair
	for _, f := range formats {
		b, err := os.ReadFile(filepath.Join(f.dir, "vectors.json"))
		if err != nil {
			return err
		}
		var file struct{ Vectors []vector }
		if err := json.Unmarshal(b, &file); err != nil {
			return err
		}
		for _, v := range file.Vectors {
			reg.SeedSchema(f.name+"-"+v.Subject, 1, v.ID+f.idOffset, sr.Schema{Schema: v.Schema, Type: f.typ})
		}
		if err := f.conv.Configure(map[string]string{schemaregistry.URLConfig: url}, false); err != nil {
			return err
		}
		for _, v := range file.Vectors {
			raw, err := hex.DecodeString(v.Hex)
			if err != nil {
				return err
			}
			raw = append(schemaregistry.AppendHeader(nil, v.ID+f.idOffset), raw[schemaregistry.HeaderSize:]...)
			topic := f.name + "-" + v.Subject[:len(v.Subject)-len("-value")]
			s, val, err := f.conv.ToConnectData(topic, raw)
			if err != nil {
				return fmt.Errorf("%s %s: reading: %w", f.name, v.Name, err)
			}
			out, err := f.conv.FromConnectData("sluice-"+topic, s, val)
			if err != nil {
				return fmt.Errorf("%s %s: writing: %w", f.name, v.Name, err)
			}
			pairs = append(pairs, pair{Format: f.name, Name: v.Name, Original: hex.EncodeToString(raw), Sluice: hex.EncodeToString(out),
				OriginalTopic: topic, SluiceTopic: "sluice-" + topic})
		}
	}
	tmp, err := os.CreateTemp("", "registrycompat-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := json.NewEncoder(tmp).Encode(pairs); err != nil {
		return err
	}
	tmp.Close()
	cmd := exec.Command(os.Args[1], "internal/registrycompat/check.py", url, tmp.Name())
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}
