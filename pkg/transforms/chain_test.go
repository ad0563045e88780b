package transforms_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/transforms"
)

// upper upper-cases string values; "suffix" is appended.
type upper struct{ suffix string }

func (*upper) Config() *config.Def {
	return config.NewDef().Define(config.Key{Name: "suffix", Type: config.String, Default: "", Doc: "appended"})
}
func (u *upper) Configure(p map[string]string) error { u.suffix = p["suffix"]; return nil }
func (u *upper) Apply(r *connect.TransformRecord) (bool, error) {
	r.Value = strings.ToUpper(r.Value.(string)) + u.suffix
	return true, nil
}
func (*upper) Close() error { return nil }

// dropAll drops every record.
type dropAll struct{}

func (dropAll) Config() *config.Def                          { return config.NewDef() }
func (dropAll) Configure(map[string]string) error            { return nil }
func (dropAll) Apply(*connect.TransformRecord) (bool, error) { return false, nil }
func (dropAll) Close() error                                 { return nil }

// topicIs matches records of the topic named by "topic".
type topicIs struct{ topic string }

func (*topicIs) Config() *config.Def {
	return config.NewDef().Define(config.Key{Name: "topic", Type: config.String, Default: config.NoDefault, Doc: "topic"})
}
func (p *topicIs) Configure(m map[string]string) error  { p.topic = m["topic"]; return nil }
func (p *topicIs) Test(r *connect.TransformRecord) bool { return r.Topic == p.topic }
func (*topicIs) Close() error                           { return nil }

func chainRegistry(t *testing.T) *connect.Registry {
	t.Helper()
	r, err := connect.NewRegistry(
		connect.Plugin{Class: "test.Upper", Kind: connect.KindTransformation, NewTransformation: func() connect.Transformation { return &upper{} }},
		connect.Plugin{Class: "test.DropAll", Kind: connect.KindTransformation, NewTransformation: func() connect.Transformation { return dropAll{} }},
		connect.Plugin{Class: "test.TopicIs", Kind: connect.KindPredicate, NewPredicate: func() connect.Predicate { return &topicIs{} }},
	)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sinkProps is a sink connector's configuration with kv added.
func sinkProps(kv ...string) map[string]string {
	p := map[string]string{"name": "s", "connector.class": "test.NopSinkConnector", "topics": "a", "path": "/x"}
	for i := 0; i < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	return p
}

func TestChainAppliesInOrderWithPredicates(t *testing.T) {
	r := chainRegistry(t)
	tests := []struct {
		name     string
		props    map[string]string
		topic    string
		want     string
		wantKeep bool
	}{
		{"no transforms", sinkProps(), "a", "x", true},
		{"two in order", sinkProps("transforms", "u1,u2", "transforms.u1.type", "test.Upper", "transforms.u1.suffix", "1",
			"transforms.u2.type", "test.Upper", "transforms.u2.suffix", "2"), "a", "X12", true},
		{"predicate matches", sinkProps("transforms", "u", "transforms.u.type", "test.Upper", "transforms.u.predicate", "isA",
			"predicates", "isA", "predicates.isA.type", "test.TopicIs", "predicates.isA.topic", "a"), "a", "X", true},
		{"predicate does not match", sinkProps("transforms", "u", "transforms.u.type", "test.Upper", "transforms.u.predicate", "isA",
			"predicates", "isA", "predicates.isA.type", "test.TopicIs", "predicates.isA.topic", "a"), "b", "x", true},
		{"negated predicate", sinkProps("transforms", "u", "transforms.u.type", "test.Upper", "transforms.u.predicate", "isA",
			"transforms.u.negate", "true", "predicates", "isA", "predicates.isA.type", "test.TopicIs", "predicates.isA.topic", "a"), "b", "X", true},
		{"drop stops the chain", sinkProps("transforms", "d,u", "transforms.d.type", "test.DropAll", "transforms.u.type", "test.Upper"), "a", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := transforms.NewChain(r, tt.props)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			rec := connect.TransformRecord{Record: connect.Record{Topic: tt.topic, Value: "x"}, KafkaOffset: 7}
			keep, err := c.Apply(&rec)
			if err != nil || keep != tt.wantKeep {
				t.Fatalf("keep %v err %v", keep, err)
			}
			if keep && rec.Value != tt.want {
				t.Fatalf("value %v, want %v", rec.Value, tt.want)
			}
		})
	}
}
