package transforms

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// ExtractField is Connect's ExtractField$Key and ExtractField$Value: it
// replaces the key or value with one of its fields, from a Struct (schema
// present) or a map (schemaless). With field.syntax.version=V2 the field is
// a dotted path into nested structs or maps (KIP-821). A null key or value
// stays null. Configure before Apply; use from one goroutine at a time.
type ExtractField struct {
	target target

	path                   fieldPath
	originalPath           string
	replaceNullWithDefault bool
}

const extractFieldPurpose = "field extraction"

// fieldSyntaxVersionConfig is KIP-821's FieldSyntaxVersion key.
const fieldSyntaxVersionConfig = "field.syntax.version"

const fieldSyntaxVersionDoc = "Defines the version of the syntax to access fields. " +
	"If set to <code>V1</code>, then the field paths are limited to access the elements at the root level of the struct or map. " +
	"If set to <code>V2</code>, the syntax will support accessing nested elements. " +
	"To access nested elements, dotted notation is used. " +
	"If dots are already included in the field name, " +
	"then backtick pairs can be used to wrap field names containing dots. " +
	"E.g. to access the subfield <code>baz</code> from a field named \"foo.bar\" in a struct/map " +
	"the following format can be used to access its elements: \"<code>foo.bar</code>.baz\"."

// defineFieldSyntaxVersion is FieldSyntaxVersion.appendConfigTo.
func defineFieldSyntaxVersion(d *config.Def) *config.Def {
	return d.Define(config.Key{Name: fieldSyntaxVersionConfig, Type: config.String, Default: "V1",
		Validator: config.CaseInsensitiveValidString("V1", "V2"), Importance: config.High, Doc: fieldSyntaxVersionDoc})
}

var extractFieldDef = defineFieldSyntaxVersion(defineReplaceNullWithDefault(config.NewDef().
	Define(config.Key{Name: "field", Type: config.String, Default: config.NoDefault, Importance: config.Medium,
		Doc: "Field name to extract."})))

func newExtractField(t target) connect.Transformation { return &ExtractField{target: t} }

// Config returns ExtractField's keys.
func (*ExtractField) Config() *config.Def { return extractFieldDef }

// Configure reads the keys.
func (x *ExtractField) Configure(props map[string]string) error {
	vals, err := extractFieldDef.Parse(props)
	if err != nil {
		return err
	}
	x.originalPath = vals.String("field")
	x.replaceNullWithDefault = vals.Bool(replaceNullWithDefaultConfig)
	x.path, err = parseFieldPath(x.originalPath, strings.ToUpper(vals.String(fieldSyntaxVersionConfig)))
	return err
}

// Apply extracts the field.
func (x *ExtractField) Apply(r *connect.TransformRecord) (bool, error) {
	schema, v := x.target.get(r)
	if schema == nil {
		m, err := requireMapOrNull(v, extractFieldPurpose)
		if err != nil {
			return true, err
		}
		var out any
		if m != nil {
			if out, err = x.path.valueFromMap(m); err != nil {
				return true, err
			}
		}
		x.target.set(r, nil, out)
		return true, nil
	}
	value, err := requireStructOrNull(v, extractFieldPurpose)
	if err != nil {
		return true, err
	}
	field, err := x.path.fieldFrom(schema)
	if err != nil {
		return true, err
	}
	if field == nil {
		return true, fmt.Errorf("Unknown field: %s", x.originalPath)
	}
	var out any
	if value != nil {
		if out, err = x.path.valueFromStruct(value, x.replaceNullWithDefault); err != nil {
			return true, err
		}
	}
	x.target.set(r, field.Schema, out)
	return true, nil
}

// Close does nothing.
func (*ExtractField) Close() error { return nil }

// fieldPath is Connect's SingleFieldPath (KIP-821): one or more steps
// into nested structs or maps.
type fieldPath struct {
	steps []string
}

// parseFieldPath parses path with syntax version "V1" (the whole text is
// one field name) or "V2" (dotted steps, backtick pairs around names with
// dots, a backslash escaping a backtick before a dot).
func parseFieldPath(path, version string) (fieldPath, error) {
	switch version {
	case "V1":
		return fieldPath{steps: []string{path}}, nil
	case "V2":
		steps, err := fieldPathV2(path)
		return fieldPath{steps: steps}, err
	}
	return fieldPath{}, config.InvalidValue(fieldSyntaxVersionConfig, version, "Unrecognized field syntax version")
}

// fieldPathV2 is SingleFieldPath.buildFieldPathV2.
func fieldPathV2(path string) ([]string, error) {
	const backtick, dot, backslash = '`', '.', '\\'
	var steps []string
	idx := 0
	for idx < len(path) && idx >= 0 {
		if path[idx] != backtick {
			start := idx
			if i := strings.IndexByte(path[idx:], dot); i >= 0 {
				idx += i
				steps = append(steps, path[start:idx])
				idx++
			} else {
				steps = append(steps, path[start:])
				idx = -1
			}
			continue
		}
		backtickAt := idx
		idx++
		var field strings.Builder
		start := idx
		for {
			i := strings.IndexByte(path[idx:], backtick)
			if i < 0 {
				return nil, incompleteBacktick(path, backtickAt)
			}
			idx += i
			escaped := path[idx-1] == backslash
			if idx >= len(path)-1 { // the closing backtick ends the path
				if escaped {
					return nil, incompleteBacktick(path, backtickAt)
				}
				field.WriteString(path[start:idx])
				steps = append(steps, field.String())
				idx++
				break
			}
			if path[idx+1] != dot {
				// Not followed by a dot: part of the name; keep looking.
				idx++
				continue
			}
			if escaped {
				// An escaped backtick before a dot: part of the name.
				field.WriteString(path[start : idx-1])
				field.WriteByte(backtick)
				idx++
				start = idx
				continue
			}
			field.WriteString(path[start:idx])
			steps = append(steps, field.String())
			idx += 2 // the backtick and the dot after it
			break
		}
	}
	if path != "" && path[len(path)-1] == dot {
		steps = append(steps, "")
	}
	if len(steps) == 0 {
		// Java's steps.get(-1) would fail; an empty path names the field "".
		steps = []string{""}
	}
	return steps, nil
}

func incompleteBacktick(path string, at int) error {
	return &configError{msg: "Incomplete backtick pair in path: [" + path + "], consider adding a backslash before backtick at position " + strconv.Itoa(at) + " to escape it"}
}

func (p fieldPath) last() string { return p.steps[len(p.steps)-1] }

func (p fieldPath) parents() []string { return p.steps[:len(p.steps)-1] }

// fieldFrom returns the schema field at the path, or nil. Looking into a
// schema that is not a STRUCT fails, as in Connect.
func (p fieldPath) fieldFrom(s *data.Schema) (*data.Field, error) {
	if s == nil {
		return nil, nil
	}
	cur := s
	for _, step := range p.parents() {
		if cur.Type != data.TypeStruct {
			return nil, errNonStructLookup
		}
		f := cur.Field(step)
		if f == nil {
			return nil, nil
		}
		cur = f.Schema
	}
	if cur.Type != data.TypeStruct {
		return nil, errNonStructLookup
	}
	return cur.Field(p.last()), nil
}

// errNonStructLookup is ConnectSchema.field's DataException.
var errNonStructLookup = errors.New("Cannot look up fields on non-struct type")

// valueFromStruct returns the value at the path, or nil when a step is
// missing or null.
func (p fieldPath) valueFromStruct(s *data.Struct, withDefault bool) (any, error) {
	cur := s
	for _, step := range p.parents() {
		if cur.Schema().Field(step) == nil {
			return nil, nil
		}
		next, err := requireStructOrNull(cur.Get(step), "nested field access")
		if err != nil || next == nil {
			return nil, err
		}
		cur = next
	}
	if cur.Schema().Field(p.last()) == nil {
		return nil, nil
	}
	return structField(cur, p.last(), withDefault), nil
}

// valueFromMap returns the value at the path, or nil when a step is
// missing or null.
func (p fieldPath) valueFromMap(m map[string]any) (any, error) {
	cur := m
	for _, step := range p.parents() {
		next, err := requireMapOrNull(cur[step], "nested field access")
		if err != nil || next == nil {
			return nil, err
		}
		cur = next
	}
	return cur[p.last()], nil
}
