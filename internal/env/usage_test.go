package env

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// level decodes itself from one variable, so envconfig does not walk its
// fields.
type level struct{ N int }

func (l *level) UnmarshalText(b []byte) error { l.N = len(b); return nil }

type Embedded struct {
	Shared string `desc:"a field of an embedded struct"`
}

type nested struct {
	Host string `default:"localhost" desc:"a field of a nested struct"`
	Port int    `envconfig:"port_number" default:"1"`
}

// The --help lines are exactly envconfig.Usagef's with the template they
// replace, for the configurations the binaries have and for the struct
// shapes envconfig walks.
func TestUsageMatchesEnvconfig(t *testing.T) {
	const format = "{{range .}}  {{usage_key .}}\t{{usage_default .}}\t{{usage_description .}}\n{{end}}"
	tests := []struct {
		name string
		spec func() any
	}{
		{name: "shared settings", spec: func() any {
			return &struct {
				Kafka
				StateTopics
				OffsetStorage
				Executor
				Logging
			}{}
		}},
		{name: "every shape", spec: func() any {
			return &struct {
				Embedded
				Plain         string        `desc:"no tags but this"`
				Tagged        string        `envconfig:"lower_tag" default:"x" desc:"a tag, lower case"`
				SSLCaFile     string        `split_words:"true" desc:"acronym then words"`
				HTTPServerURL string        `split_words:"true"`
				AWSRegion     string        `split_words:"true" envconfig:"REGION" desc:"tag wins over split_words"`
				Timeout       time.Duration `default:"2s"`
				List          []string      `split_words:"yes"`
				Skipped       string        `ignored:"true"`
				unexported    string
				Level         level   `desc:"decodes itself"`
				Nested        nested  `desc:"walked under its own name"`
				Ptr           *nested `split_words:"true"`
				NilInt        *int
			}{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want, got strings.Builder
			if err := envconfig.Usagef("sluice", tt.spec(), &want, format); err != nil {
				t.Fatal(err)
			}
			if err := Usage(&got, "sluice", tt.spec()); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("Usage:\n%s\nenvconfig.Usagef:\n%s", got.String(), want.String())
			}
		})
	}
}

func TestUsageRejectsNonStructPointer(t *testing.T) {
	for _, spec := range []any{nil, OffsetStorage{}, new(int)} {
		if err := Usage(&strings.Builder{}, "sluice", spec); !errors.Is(err, envconfig.ErrInvalidSpecification) {
			t.Errorf("Usage(%T) = %v, want ErrInvalidSpecification", spec, err)
		}
	}
}

func TestVar(t *testing.T) {
	type process struct {
		Kafka
		OffsetStorage
		LeaseTimeout time.Duration `envconfig:"LEASE_TIMEOUT"`
		Nested       nested
		Other        int
	}
	var p process
	var loose int
	tests := []struct {
		name        string
		spec, field any
		want        string
	}{
		{name: "own field", spec: &p, field: &p.LeaseTimeout, want: "SLUICE_LEASE_TIMEOUT"},
		{name: "embedded field", spec: &p, field: &p.OffsetStoragePartitions, want: "SLUICE_OFFSET_STORAGE_PARTITIONS"},
		{name: "embedded struct's first field", spec: &p, field: &p.BootstrapServers, want: "SLUICE_BOOTSTRAP_SERVERS"},
		{name: "split words two levels down", spec: &p, field: &p.SSLCaFile, want: "SLUICE_SSL_CA_FILE"},
		{name: "embedded struct alone", spec: &p.OffsetStorage, field: &p.OffsetStorageTopic, want: "SLUICE_OFFSET_STORAGE_TOPIC"},
		{name: "nested under its name", spec: &p, field: &p.Nested.Port, want: "SLUICE_NESTED_PORT_NUMBER"},
		{name: "untagged", spec: &p, field: &p.Other, want: "SLUICE_OTHER"},
		{name: "not a field", spec: &p, field: &loose, want: ""},
		{name: "a struct, not its first field", spec: &p, field: &p.Kafka, want: ""},
		{name: "not a pointer", spec: p, field: &p.Other, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Var(tt.spec, tt.field); got != tt.want {
				t.Errorf("Var = %q, want %q", got, tt.want)
			}
		})
	}
}
