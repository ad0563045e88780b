package runner

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
		{name: "runner config", spec: func() any { return &Config{} }},
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
			if err := writeUsage(&got, "sluice", tt.spec()); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("writeUsage:\n%s\nenvconfig.Usagef:\n%s", got.String(), want.String())
			}
		})
	}
}

func TestUsageRejectsNonStructPointer(t *testing.T) {
	for _, spec := range []any{nil, Config{}, new(int)} {
		if err := writeUsage(&strings.Builder{}, "sluice", spec); !errors.Is(err, envconfig.ErrInvalidSpecification) {
			t.Errorf("writeUsage(%T) = %v, want ErrInvalidSpecification", spec, err)
		}
	}
}
