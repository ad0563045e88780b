package env

import (
	"encoding"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/kelseyhightower/envconfig"
)

// Usage writes one line per variable that envconfig.Process(prefix, spec)
// reads, "  KEY\tDEFAULT\tDESCRIPTION", in envconfig's order and with its
// names: what envconfig.Usagef writes with that line as its template
// (every line indented alike). spec is a pointer to a struct; only its type
// is looked at.
//
// It stands in for Usagef because Usagef runs text/template, which calls
// methods by name through reflection: linking it makes the linker keep
// every exported method of every type in the binary (megabytes in each
// function), since any of them might be called.
func Usage(w io.Writer, prefix string, spec any) error {
	t := reflect.TypeOf(spec)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return envconfig.ErrInvalidSpecification
	}
	for _, v := range envVars(prefix, t.Elem()) {
		if _, err := fmt.Fprintf(w, "  %s\t%s\t%s\n", v.key, v.tag.Get("default"), v.tag.Get("desc")); err != nil {
			return err
		}
	}
	return nil
}

// Var returns the name of the variable envconfig.Process(Prefix, spec)
// reads into field, a pointer to a field of the struct spec points to (or
// of a struct embedded or nested in it): "SLUICE_LEASE_TIMEOUT" for
// Var(&cfg, &cfg.LeaseTimeout). Errors name variables with it, so that the
// names come from the struct tags alone. It returns "" when field is not
// such a field.
func Var(spec, field any) string {
	sv, fv := reflect.ValueOf(spec), reflect.ValueOf(field)
	if sv.Kind() != reflect.Pointer || sv.Elem().Kind() != reflect.Struct || fv.Kind() != reflect.Pointer || fv.IsNil() {
		return ""
	}
	for _, v := range envVars(Prefix, sv.Elem().Type()) {
		f, err := sv.Elem().FieldByIndexErr(v.index)
		if err == nil && f.Type() == fv.Elem().Type() && f.Addr().Pointer() == fv.Pointer() {
			return v.key
		}
	}
	return ""
}

// envVar is a variable envconfig reads: its name, its field's tags and
// the field's index sequence (reflect.Value.FieldByIndex).
type envVar struct {
	key   string
	tag   reflect.StructTag
	index []int
}

// The split_words patterns of envconfig's gatherInfo.
var (
	wordsPattern   = regexp.MustCompile("([^A-Z]+|[A-Z]+[^A-Z]+|[A-Z]+)")
	acronymPattern = regexp.MustCompile("([A-Z]+)([A-Z][^A-Z]+)")
)

// envVars follows envconfig's gatherInfo for the struct type t: exported
// fields not tagged ignored, named by their envconfig tag or else their
// field name (split into words with split_words), after prefix_ and upper
// case; a struct field that decodes no text of its own stands for its
// fields, named under its own name (or prefix, when embedded).
func envVars(prefix string, t reflect.Type) []envVar {
	var vars []envVar
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || isTrue(f.Tag.Get("ignored")) {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
			ft = ft.Elem()
		}
		key := f.Name
		if isTrue(f.Tag.Get("split_words")) {
			if words := wordsPattern.FindAllStringSubmatch(f.Name, -1); len(words) > 0 {
				var name []string
				for _, w := range words {
					if m := acronymPattern.FindStringSubmatch(w[0]); len(m) == 3 {
						name = append(name, m[1], m[2])
					} else {
						name = append(name, w[0])
					}
				}
				key = strings.Join(name, "_")
			}
		}
		if alt := f.Tag.Get("envconfig"); alt != "" {
			key = alt
		}
		if prefix != "" {
			key = prefix + "_" + key
		}
		key = strings.ToUpper(key)
		if ft.Kind() == reflect.Struct && !decodesItself(ft) {
			inner := key
			if f.Anonymous {
				inner = prefix
			}
			for _, v := range envVars(inner, ft) {
				v.index = append([]int{i}, v.index...)
				vars = append(vars, v)
			}
			continue
		}
		vars = append(vars, envVar{key: key, tag: f.Tag, index: []int{i}})
	}
	return vars
}

// decodesItself reports whether envconfig sets a value of struct type t
// from one variable (a Decoder, Setter, TextUnmarshaler or
// BinaryUnmarshaler) rather than field by field.
func decodesItself(t reflect.Type) bool {
	for _, i := range []reflect.Type{
		reflect.TypeFor[envconfig.Decoder](), reflect.TypeFor[envconfig.Setter](),
		reflect.TypeFor[encoding.TextUnmarshaler](), reflect.TypeFor[encoding.BinaryUnmarshaler](),
	} {
		if t.Implements(i) || reflect.PointerTo(t).Implements(i) {
			return true
		}
	}
	return false
}

func isTrue(s string) bool {
	b, _ := strconv.ParseBool(s)
	return b
}
