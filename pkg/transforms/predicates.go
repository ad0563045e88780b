package transforms

import (
	"regexp"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// topicNameMatchesConfig is TopicNameMatches' ConfigDef.
func topicNameMatchesConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "pattern", Type: config.String, Default: config.NoDefault,
			Validator: config.Composite(config.NonEmptyString(), config.Regex()), Importance: config.Medium,
			Doc: "A Java regular expression for matching against the name of a record's topic."})
}

// TopicNameMatches is Connect's predicates.TopicNameMatches: true for
// records whose whole topic matches pattern (Java's Matcher.matches). The
// pattern is compiled by Go's regexp package (RE2), which lacks some of
// Java's syntax (look-around, back-references). A configured
// TopicNameMatches is safe for concurrent use.
type TopicNameMatches struct {
	pattern *regexp.Regexp
}

var _ connect.Predicate = (*TopicNameMatches)(nil)

// NewTopicNameMatches returns an unconfigured TopicNameMatches.
func NewTopicNameMatches() *TopicNameMatches { return &TopicNameMatches{} }

// Config returns the predicate's configuration keys.
func (p *TopicNameMatches) Config() *config.Def { return topicNameMatchesConfig() }

// Configure reads pattern.
func (p *TopicNameMatches) Configure(props map[string]string) error {
	vals, err := p.Config().Parse(props)
	if err != nil {
		return err
	}
	pattern := vals.String("pattern")
	if p.pattern, _, err = regexRouterCompile(pattern); err != nil {
		return config.InvalidValue("pattern", pattern, "entry must be a Java-compatible regular expression: "+err.Error())
	}
	return nil
}

// Test reports whether the record's topic matches.
func (p *TopicNameMatches) Test(r *connect.TransformRecord) bool {
	return p.pattern.MatchString(r.Topic)
}

// Close does nothing.
func (p *TopicNameMatches) Close() error { return nil }

// String describes the predicate as Connect's toString.
func (p *TopicNameMatches) String() string {
	if p.pattern == nil {
		return "TopicNameMatches{pattern=null}"
	}
	s := p.pattern.String()
	return "TopicNameMatches{pattern=" + s[len(`\A(?:`):len(s)-len(`)\z`)] + "}"
}

// hasHeaderKeyConfig is HasHeaderKey's ConfigDef.
func hasHeaderKeyConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "name", Type: config.String, Default: nil,
			Validator: config.NonEmptyString(), Importance: config.Medium, Doc: "The header name."})
}

// HasHeaderKey is Connect's predicates.HasHeaderKey: true for records with
// at least one header named name. Without a name it is always false, as in
// Connect. A configured HasHeaderKey is safe for concurrent use.
type HasHeaderKey struct {
	name  string
	isSet bool
}

var _ connect.Predicate = (*HasHeaderKey)(nil)

// NewHasHeaderKey returns an unconfigured HasHeaderKey.
func NewHasHeaderKey() *HasHeaderKey { return &HasHeaderKey{} }

// Config returns the predicate's configuration keys.
func (p *HasHeaderKey) Config() *config.Def { return hasHeaderKeyConfig() }

// Configure reads name.
func (p *HasHeaderKey) Configure(props map[string]string) error {
	vals, err := p.Config().Parse(props)
	if err != nil {
		return err
	}
	p.name, p.isSet = vals.Get("name").(string)
	return nil
}

// Test reports whether the record has a header named name.
func (p *HasHeaderKey) Test(r *connect.TransformRecord) bool {
	if !p.isSet {
		return false
	}
	_, ok := r.Headers.LastWithName(p.name)
	return ok
}

// Close does nothing.
func (p *HasHeaderKey) Close() error { return nil }

// RecordIsTombstone is Connect's predicates.RecordIsTombstone: true for
// records whose value is null. It has no configuration and is safe for
// concurrent use.
type RecordIsTombstone struct{}

var _ connect.Predicate = RecordIsTombstone{}

// NewRecordIsTombstone returns a RecordIsTombstone.
func NewRecordIsTombstone() RecordIsTombstone { return RecordIsTombstone{} }

// Config returns an empty configuration.
func (RecordIsTombstone) Config() *config.Def { return config.NewDef() }

// Configure checks that props are valid (there are no keys).
func (p RecordIsTombstone) Configure(props map[string]string) error {
	_, err := p.Config().Parse(props)
	return err
}

// Test reports whether the record's value is null.
func (RecordIsTombstone) Test(r *connect.TransformRecord) bool { return r.Value == nil }

// Close does nothing.
func (RecordIsTombstone) Close() error { return nil }
