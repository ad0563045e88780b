package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// loadTemplate reads a CloudFormation (SAM) YAML template and returns it as
// the JSON CloudFormation would see: short-form intrinsics (!Ref, !Sub,
// !GetAtt …) become their long form ({"Ref": …}, {"Fn::Sub": …},
// {"Fn::GetAtt": [resource, attribute]}), numbers are float64.
func loadTemplate(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := decodeCFN(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		t.Fatalf("%s: top level is %T, want a mapping", path, doc)
	}
	return m
}

// decodeCFN decodes YAML with CloudFormation's tags into JSON values.
func decodeCFN(data []byte) (any, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	v, err := fromNode(&root)
	if err != nil {
		return nil, err
	}
	// A JSON round trip gives the plain types (float64, []any,
	// map[string]any) that both the schema validator and the checks expect.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(b, &out)
}

func fromNode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return fromNode(n.Content[0])
	case yaml.AliasNode:
		return fromNode(n.Alias)
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			x, err := fromNode(val)
			if err != nil {
				return nil, err
			}
			m[k.Value] = x
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			x, err := fromNode(c)
			if err != nil {
				return nil, err
			}
			s = append(s, x)
		}
		v = s
	case yaml.ScalarNode:
		if isIntrinsicTag(n.Tag) {
			v = n.Value
			break
		}
		switch n.ShortTag() {
		case "!!str", "!!timestamp", "!!binary":
			v = n.Value
		default:
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
		}
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
	}
	if !isIntrinsicTag(n.Tag) {
		return v, nil
	}
	name := strings.TrimPrefix(n.Tag, "!")
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		// !GetAtt Resource.Attribute is short for ["Resource", "Attribute"].
		if s, ok := v.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, s)
			}
			v = []any{res, attr}
		}
	}
	return map[string]any{"Fn::" + name: v}, nil
}

// isIntrinsicTag reports a local tag such as !Ref (not a YAML !!type).
func isIntrinsicTag(tag string) bool {
	return strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!")
}

// at walks maps by key and lists by index ("0", "1", …); nil when absent.
func at(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var i int
			if _, err := fmt.Sscanf(p, "%d", &i); err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// list returns v as a list: a lone value is a list of one, nil is empty.
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

// ref is the long form of !Ref name.
func ref(name string) any { return map[string]any{"Ref": name} }

// getAtt is the long form of !GetAtt resource.attribute.
func getAtt(resource, attribute string) any {
	return map[string]any{"Fn::GetAtt": []any{resource, attribute}}
}

// jsonString renders a value for messages and comparisons.
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func TestDecodeCFN(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"ref", "a: !Ref Bucket", `{"a":{"Ref":"Bucket"}}`},
		{"getatt scalar", "a: !GetAtt Fn.Arn", `{"a":{"Fn::GetAtt":["Fn","Arn"]}}`},
		{"getatt list", "a: !GetAtt [Fn, Arn]", `{"a":{"Fn::GetAtt":["Fn","Arn"]}}`},
		{"sub", "a: !Sub arn:${AWS::Partition}:s3:::${B}/*", `{"a":{"Fn::Sub":"arn:${AWS::Partition}:s3:::${B}/*"}}`},
		{"sub list", "a: !Sub\n  - x${Y}\n  - Y: !Ref Z", `{"a":{"Fn::Sub":["x${Y}",{"Y":{"Ref":"Z"}}]}}`},
		{"nested", "a: !If [C, !Select [0, !Ref L], !Ref AWS::NoValue]",
			`{"a":{"Fn::If":["C",{"Fn::Select":[0,{"Ref":"L"}]},{"Ref":"AWS::NoValue"}]}}`},
		{"condition", "a: !Not [!Condition C]", `{"a":{"Fn::Not":[{"Condition":"C"}]}}`},
		{"plain types", "a: [1, true, x, \"2010-09-09\", 2010-09-09, null]", `{"a":[1,true,"x","2010-09-09","2010-09-09",null]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := decodeCFN([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonString(v); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	if _, err := decodeCFN([]byte("a: 1\na: 2")); err == nil {
		t.Error("duplicate keys: no error")
	}
}
