package transforms

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// regexRouterConfig is RegexRouter's ConfigDef.
func regexRouterConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "regex", Type: config.String, Default: config.NoDefault, Validator: config.Regex(),
			Importance: config.High, Doc: "Regular expression to use for matching."}).
		Define(config.Key{Name: "replacement", Type: config.String, Default: config.NoDefault,
			Importance: config.High, Doc: "Replacement string."})
}

// RegexRouter is Connect's RegexRouter: when the whole topic matches regex
// (Java's Matcher.matches), the topic becomes the first match of regex in
// it replaced by replacement (Matcher.replaceFirst). The replacement uses
// Java's syntax: $n and ${name} refer to groups, and a backslash makes the
// next character literal. As in Java, $12 means group 12 only when the
// pattern has 12 groups, else group 1 followed by "2".
//
// The expression is compiled by Go's regexp package (RE2): Java features
// that RE2 lacks (look-around, back-references, possessive quantifiers)
// are rejected when configuring. A configured RegexRouter is safe for
// concurrent use.
type RegexRouter struct {
	full, first *regexp.Regexp
	replacement []regexRouterPiece
	// replacementErr is Java's error for a bad replacement, which Connect
	// only reports when a topic matches.
	replacementErr error
}

var _ connect.Transformation = (*RegexRouter)(nil)

// NewRegexRouter returns an unconfigured RegexRouter.
func NewRegexRouter() *RegexRouter { return &RegexRouter{} }

// Config returns the transformation's configuration keys.
func (t *RegexRouter) Config() *config.Def { return regexRouterConfig() }

// Configure reads regex and replacement.
func (t *RegexRouter) Configure(props map[string]string) error {
	vals, err := t.Config().Parse(props)
	if err != nil {
		return err
	}
	if t.full, t.first, err = regexRouterCompile(vals.String("regex")); err != nil {
		return config.InvalidValue("regex", vals.String("regex"), "Invalid regex: "+err.Error())
	}
	t.replacement, t.replacementErr = regexRouterParseReplacement(vals.String("replacement"), t.first)
	return nil
}

// Apply reroutes the record when its topic matches.
func (t *RegexRouter) Apply(r *connect.TransformRecord) (bool, error) {
	if !t.full.MatchString(r.Topic) {
		slog.Debug("Not rerouting topic as it does not match the configured regex", "topic", r.Topic)
		return true, nil
	}
	if t.replacementErr != nil {
		return false, t.replacementErr
	}
	topic := regexRouterReplaceFirst(t.first, r.Topic, t.replacement)
	slog.Debug("Rerouting topic", "from", r.Topic, "to", topic)
	r.Topic = topic
	return true, nil
}

// Close does nothing.
func (t *RegexRouter) Close() error { return nil }

// regexRouterCompile compiles a Java regular expression twice: anchored at
// both ends, for Matcher.matches, and as written, for Matcher.find.
func regexRouterCompile(pattern string) (full, first *regexp.Regexp, err error) {
	if first, err = regexp.Compile(pattern); err != nil {
		return nil, nil, err
	}
	full, err = regexp.Compile(`\A(?:` + pattern + `)\z`)
	return full, first, err
}

// regexRouterPiece is literal text, or a group reference when group >= 0.
type regexRouterPiece struct {
	lit   string
	group int
}

// regexRouterParseReplacement parses a java.util.regex replacement string
// against the pattern's groups, with Java's error messages.
func regexRouterParseReplacement(repl string, re *regexp.Regexp) ([]regexRouterPiece, error) {
	var (
		pieces []regexRouterPiece
		lit    strings.Builder
	)
	groups := re.NumSubexp()
	flush := func() {
		if lit.Len() > 0 {
			pieces = append(pieces, regexRouterPiece{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	for i := 0; i < len(repl); {
		switch c := repl[i]; c {
		case '\\':
			i++
			if i == len(repl) {
				return nil, errors.New("character to be escaped is missing")
			}
			lit.WriteByte(repl[i])
			i++
		case '$':
			i++
			if i == len(repl) {
				return nil, errors.New("Illegal group reference: group index is missing")
			}
			var ref int
			if repl[i] == '{' {
				i++
				start := i
				for i < len(repl) && regexRouterIsAlnum(repl[i]) {
					i++
				}
				name := repl[start:i]
				switch {
				case name == "":
					return nil, errors.New("named capturing group has 0 length name")
				case i == len(repl) || repl[i] != '}':
					return nil, errors.New("named capturing group is missing trailing '}'")
				case name[0] >= '0' && name[0] <= '9':
					return nil, fmt.Errorf("capturing group name {%s} starts with digit character", name)
				}
				if ref = re.SubexpIndex(name); ref < 0 {
					return nil, fmt.Errorf("No group with name {%s}", name)
				}
				i++
			} else {
				if repl[i] < '0' || repl[i] > '9' {
					return nil, errors.New("Illegal group reference")
				}
				ref = int(repl[i] - '0')
				i++
				// The longest group number the pattern has.
				for i < len(repl) && repl[i] >= '0' && repl[i] <= '9' {
					next := ref*10 + int(repl[i]-'0')
					if next > groups {
						break
					}
					ref = next
					i++
				}
				if ref > groups {
					return nil, fmt.Errorf("No group %d", ref)
				}
			}
			flush()
			pieces = append(pieces, regexRouterPiece{group: ref})
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return pieces, nil
}

func regexRouterIsAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// regexRouterReplaceFirst is Matcher.replaceFirst with a parsed
// replacement. A group that did not participate adds nothing.
func regexRouterReplaceFirst(re *regexp.Regexp, s string, repl []regexRouterPiece) string {
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:m[0]])
	for _, p := range repl {
		if p.group < 0 {
			b.WriteString(p.lit)
		} else if start, end := m[2*p.group], m[2*p.group+1]; start >= 0 && end >= 0 {
			b.WriteString(s[start:end])
		}
	}
	b.WriteString(s[m[1]:])
	return b.String()
}
