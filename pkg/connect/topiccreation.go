package connect

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// The topic creation keys of source connectors (KIP-158), as Connect's
// SourceConnectorConfig and TopicCreationConfig name them. With the
// worker's topic.creation.enable (the default) and any key starting with
// TopicCreationPrefix in a source connector's configuration, each topic the
// connector's tasks produce to is created through the admin API before the
// first record is sent to it, with the settings of the first group whose
// include and exclude regexes select it, else of the default group:
//
//	topic.creation.groups=compacted
//	topic.creation.default.replication.factor=3     (required)
//	topic.creation.default.partitions=6             (required)
//	topic.creation.compacted.include=orders-.*
//	topic.creation.compacted.partitions=1           (default: the default group's)
//	topic.creation.compacted.cleanup.policy=compact (any other topic config)
const (
	TopicCreationPrefix       = "topic.creation."
	TopicCreationGroupsConfig = TopicCreationPrefix + "groups"
	// DefaultTopicCreationGroup is the group every connector using topic
	// creation has; it need not be listed in topic.creation.groups.
	DefaultTopicCreationGroup = "default"

	// The keys of a group, after topic.creation.<group>.
	TopicCreationIncludeConfig           = "include"
	TopicCreationExcludeConfig           = "exclude"
	TopicCreationReplicationFactorConfig = "replication.factor"
	TopicCreationPartitionsConfig        = "partitions"
)

// topicCreationGroup is the group of topic.creation.groups in the REST API.
const topicCreationGroup = "Topic Creation"

// SourceConfig declares the keys every source connector has: the common
// ones and topic.creation.groups (Connect's SourceConnectorConfig.configDef).
func SourceConfig() *config.Def {
	return exactlyOnceKeys(CommonConfig().Define(topicCreationGroupsKey()))
}

func topicCreationGroupsKey() config.Key {
	return config.Key{Name: TopicCreationGroupsConfig, Type: config.List, Default: "", Importance: config.Low,
		Validator: config.Composite(config.NonNullValidator{}, config.LambdaValidator(func(name string, value any) error {
			groups, _ := value.([]string)
			for i, g := range groups {
				if slices.Contains(groups[:i], g) {
					return config.InvalidValue(name, strings.Join(groups, ","), "Duplicate alias provided.")
				}
			}
			return nil
		}, "unique topic creation groups")),
		Group: topicCreationGroup, OrderInGroup: 1, Width: config.WidthLong, DisplayName: "Topic Creation Groups",
		Doc: "Groups of configurations for topics created by source connectors"}
}

// UsesTopicCreation reports whether a source connector's configuration
// asks for topic creation: any key starts with topic.creation.
// (SourceConnectorConfig.usesTopicCreation).
func UsesTopicCreation(props map[string]string) bool {
	for k := range props {
		if strings.HasPrefix(k, TopicCreationPrefix) {
			return true
		}
	}
	return false
}

// topicCreationGroups returns the named groups of topic.creation.groups, in
// order, without "default" (which always exists) and duplicates.
func topicCreationGroups(props map[string]string) []string {
	return slices.DeleteFunc(Aliases(props[TopicCreationGroupsConfig]), func(g string) bool { return g == DefaultTopicCreationGroup })
}

// TopicCreationConfig declares the topic creation keys of props' groups: the
// default group's (replication factor and partitions required) and each
// named group's, whose replication factor and partitions default to the
// default group's (SourceConnectorConfig.embedDefaultGroup and enrich).
// Other keys under a group's prefix are topic configs, passed to the
// broker as they are, and not declared.
func TopicCreationConfig(props map[string]string) *config.Def {
	def := config.NewDef()
	defineTopicCreationGroup(def, DefaultTopicCreationGroup, DefaultTopicCreationGroup, config.NoDefault, config.NoDefault)
	// A named group's defaults are the default group's values when they
	// parse and are valid; otherwise the default group's keys report the
	// problem and the named groups fall back to the broker's defaults.
	rf, partitions := any(-1), any(-1)
	if v, err := defaultGroupValue(props, TopicCreationReplicationFactorConfig); err == nil {
		rf = v
	}
	if v, err := defaultGroupValue(props, TopicCreationPartitionsConfig); err == nil {
		partitions = v
	}
	for _, g := range topicCreationGroups(props) {
		defineTopicCreationGroup(def, g, topicCreationGroup+": "+g, rf, partitions)
	}
	return def
}

func defaultGroupValue(props map[string]string, key string) (int, error) {
	s, ok := props[TopicCreationPrefix+DefaultTopicCreationGroup+"."+key]
	if !ok {
		return 0, fmt.Errorf("missing")
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || (n != -1 && n < 1) {
		return 0, fmt.Errorf("invalid")
	}
	return n, nil
}

// defineTopicCreationGroup declares one group's keys
// (TopicCreationConfig.configDef, defaultGroupConfigDef).
func defineTopicCreationGroup(def *config.Def, group, restGroup string, rf, partitions any) {
	prefix := TopicCreationPrefix + group + "."
	include, exclude := config.Validator(topicRegexes{}), config.Validator(topicRegexes{})
	var includeDefault any = ""
	if group == DefaultTopicCreationGroup {
		// The default group takes every topic; its include and exclude are
		// ignored (SourceConnectorConfig drops them).
		includeDefault, include, exclude = ".*", config.NonNullValidator{}, config.NonNullValidator{}
	}
	keys := []config.Key{
		{Name: TopicCreationIncludeConfig, Type: config.List, Default: includeDefault, Validator: include,
			DisplayName: "Inclusion Topic Pattern for " + group,
			Doc: "A list of regular expression literals used to match the topic names used by the source connector. " +
				"This list is used to include topics that should be created using the topic settings defined by this group."},
		{Name: TopicCreationExcludeConfig, Type: config.List, Default: "", Validator: exclude,
			DisplayName: "Exclusion Topic Pattern for " + group,
			Doc: "A list of regular expression literals used to match the topic names used by the source connector. " +
				"This list is used to exclude topics from being created with the topic settings defined by this group. " +
				"Note that exclusion rules have precedent and override any inclusion rules for the topics."},
		{Name: TopicCreationReplicationFactorConfig, Type: config.Int, Default: rf,
			Validator: brokerDefaultOrUpTo(math.MaxInt16,
				"Replication factor must be positive and not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default",
				"Positive number not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default"),
			DisplayName: "Replication Factor for Topics in " + group,
			Doc: "The replication factor for new topics created for this connector using this group. This value may be -1 to use the broker's " +
				"default replication factor, or may be a positive number not larger than the number of brokers in the Kafka cluster. " +
				"A value larger than the number of brokers in the Kafka cluster will result in an error when the new topic is created. " +
				"For the default group this configuration is required. For any other group defined in topic.creation.groups this config " +
				"is optional and if it's missing it gets the value of the default group"},
		{Name: TopicCreationPartitionsConfig, Type: config.Int, Default: partitions,
			Validator: brokerDefaultOrUpTo(math.MaxInt32,
				"Number of partitions must be positive, or -1 to use the broker's default",
				"Positive number, or -1 to use the broker's default"),
			DisplayName: "Partition Count for Topics in " + group,
			Doc: "The number of partitions new topics created for this connector. This value may be -1 to use the broker's default number " +
				"of partitions, or a positive number representing the desired number of partitions. For the default group this configuration " +
				"is required. For any other group defined in topic.creation.groups this config is optional and if it's missing it gets the " +
				"value of the default group"},
	}
	for i, k := range keys {
		k.Name = prefix + k.Name
		k.Importance, k.Group, k.OrderInGroup, k.Width = config.Low, restGroup, i+1, config.WidthLong
		def.Define(k)
	}
}

// brokerDefaultOrUpTo validates an INT that is -1 (the broker's default)
// or between 1 and most (what the admin API's field holds); any other
// value is invalid with problem. desc describes the valid values.
func brokerDefaultOrUpTo(most int, problem, desc string) config.Validator {
	return config.LambdaValidator(func(name string, value any) error {
		// A missing or unparsable value is reported as such already.
		if n, ok := value.(int); ok && n != -1 && (n < 1 || n > most) {
			return config.InvalidValue(name, n, problem)
		}
		return nil
	}, desc)
}

// topicRegexes checks each element of a LIST as a regular expression (Go's
// RE2 syntax, not Java's), TopicCreationConfig's REGEX_VALIDATOR.
type topicRegexes struct{}

func (topicRegexes) Validate(name string, value any) error {
	list, _ := value.([]string)
	for _, re := range list {
		if _, err := regexp.Compile(re); err != nil {
			return config.InvalidValue(name, strings.Join(list, ","), "Syntax error in regular expression: "+err.Error())
		}
	}
	return nil
}

func (topicRegexes) String() string { return "list of valid regular expressions" }

// TopicCreationSettings is a source connector's parsed topic creation
// settings: the named groups in the order listed, then the default group.
type TopicCreationSettings struct {
	Groups []TopicCreationGroup
}

// TopicCreationGroup is one group's settings. ReplicationFactor and
// Partitions are -1 for the broker's defaults.
type TopicCreationGroup struct {
	Name              string
	Include, Exclude  []*regexp.Regexp
	ReplicationFactor int
	Partitions        int
	// Configs are the group's other keys: topic configs such as
	// cleanup.policy, passed to CreateTopics as they are.
	Configs map[string]string
}

// ParseTopicCreationSettings parses a source connector's topic creation
// settings; it returns nil when the configuration does not use topic
// creation (UsesTopicCreation). An invalid setting returns the validation
// error naming every problem.
func ParseTopicCreationSettings(props map[string]string) (*TopicCreationSettings, error) {
	if !UsesTopicCreation(props) {
		return nil, nil
	}
	// Only the topic creation keys are parsed here: the rest of the
	// configuration was validated when the connector was created.
	def := TopicCreationConfig(props).Define(topicCreationGroupsKey())
	only := map[string]string{}
	for k, v := range props {
		if strings.HasPrefix(k, TopicCreationPrefix) {
			only[k] = v
		}
	}
	vals, err := def.Parse(only)
	if err != nil {
		return nil, err
	}
	tc := &TopicCreationSettings{}
	for _, g := range append(topicCreationGroups(props), DefaultTopicCreationGroup) {
		prefix := TopicCreationPrefix + g + "."
		grp := TopicCreationGroup{Name: g, ReplicationFactor: vals.Int(prefix + TopicCreationReplicationFactorConfig),
			Partitions: vals.Int(prefix + TopicCreationPartitionsConfig), Configs: map[string]string{}}
		if g != DefaultTopicCreationGroup {
			grp.Include = wholeNames(vals.List(prefix + TopicCreationIncludeConfig))
			grp.Exclude = wholeNames(vals.List(prefix + TopicCreationExcludeConfig))
		}
		for k, v := range props {
			name, ok := strings.CutPrefix(k, prefix)
			if !ok || name == TopicCreationIncludeConfig || name == TopicCreationExcludeConfig ||
				name == TopicCreationReplicationFactorConfig || name == TopicCreationPartitionsConfig {
				continue
			}
			grp.Configs[name] = v
		}
		tc.Groups = append(tc.Groups, grp)
	}
	return tc, nil
}

// wholeNames compiles regexes (validated by Parse) to match whole topic
// names, as Java's Pattern.matches does.
func wholeNames(res []string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(res))
	for i, re := range res {
		out[i] = regexp.MustCompile(`^(?:` + re + `)$`)
	}
	return out
}

// For returns the group whose settings create topic: the first named group
// that includes it and does not exclude it, else the default group
// (TopicCreation.findFirstGroup).
func (tc *TopicCreationSettings) For(topic string) TopicCreationGroup {
	for _, g := range tc.Groups[:len(tc.Groups)-1] {
		if matchesAny(g.Include, topic) && !matchesAny(g.Exclude, topic) {
			return g
		}
	}
	return tc.Groups[len(tc.Groups)-1]
}

func matchesAny(res []*regexp.Regexp, s string) bool {
	return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(s) })
}
