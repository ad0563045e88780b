package datagen

import (
	"strings"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Configuration keys.
const (
	TopicConfig     = "topic"
	ShapeConfig     = "shape"
	ValueSizeConfig = "value.size"
	CountConfig     = "count"
	RateConfig      = "rate"
	SeedConfig      = "seed"
	BatchSizeConfig = "batch.size"

	// Keys of Confluent's kafka-connect-datagen, accepted as aliases.
	KafkaTopicConfig  = "kafka.topic"
	IterationsConfig  = "iterations"
	MaxIntervalConfig = "max.interval"
	QuickstartConfig  = "quickstart"

	// Keys TaskConfigs adds to each task's configuration.
	TaskIndexConfig = "task.index"
	TaskCountConfig = "task.count"
)

// Defaults.
const (
	DefaultShape     = ShapeOrders
	DefaultValueSize = 200
	DefaultCount     = -1
	DefaultBatchSize = 1000
)

const (
	mainGroup       = "Datagen"
	confluentGroup  = "Confluent datagen compatibility"
	missingTopicMsg = `Missing required configuration "topic" which has no default value.`
)

// Config declares the connector's keys. topic has no default but is not
// declared required, because Confluent's kafka.topic may stand in for it;
// its rule (aliasRule) reports a missing topic with Kafka's message.
func Config() *config.Def {
	return config.NewDef().Rule(aliasRule).
		Define(config.Key{Name: TopicConfig, Type: config.String, Default: nil, Validator: config.NonEmptyString(),
			Importance: config.High, Group: mainGroup, OrderInGroup: 1, Width: config.WidthMedium,
			Doc: "The topic to write generated records to. Required unless kafka.topic is set."}).
		Define(config.Key{Name: ShapeConfig, Type: config.String, Default: DefaultShape,
			Validator:  config.ValidString(ShapeOrders, ShapeUsers, ShapePageviews, ShapeBytes),
			Importance: config.High, Group: mainGroup, OrderInGroup: 2, Width: config.WidthShort,
			Doc: "What to generate: orders (a STRUCT io.sluice.datagen.Order keyed by customer_id, about 200 bytes as JSON), " +
				"users and pageviews (the fields of Confluent's datagen quickstarts, keyed by userid), " +
				"or bytes (an opaque BYTES value of value.size bytes, no key)."}).
		Define(config.Key{Name: ValueSizeConfig, Type: config.Int, Default: DefaultValueSize, Validator: config.Between(1, 1<<20),
			Importance: config.Medium, Group: mainGroup, OrderInGroup: 3, Width: config.WidthShort,
			Doc: "Size in bytes of each value of the bytes shape."}).
		Define(config.Key{Name: CountConfig, Type: config.Long, Default: DefaultCount, Validator: config.AtLeast(-1),
			Importance: config.High, Group: mainGroup, OrderInGroup: 4, Width: config.WidthShort,
			Doc: "Records to generate per task; -1 for no limit. A task that reached it returns no more records."}).
		Define(config.Key{Name: RateConfig, Type: config.Double, Default: 0.0, Validator: config.AtLeast(0),
			Importance: config.Medium, Group: mainGroup, OrderInGroup: 5, Width: config.WidthShort,
			Doc: "Records per second per task, counted from the start of each lease; 0 generates as fast as possible. " +
				"When no record is due, Poll waits at most 100 ms for the next one."}).
		Define(config.Key{Name: SeedConfig, Type: config.Long, Default: int64(0),
			Importance: config.Low, Group: mainGroup, OrderInGroup: 6, Width: config.WidthShort,
			Doc: "Seed of the generator. Record i of task t is a pure function of (seed, t, i, shape), " +
				"so a replayed lease regenerates identical records."}).
		Define(config.Key{Name: BatchSizeConfig, Type: config.Int, Default: DefaultBatchSize, Validator: config.AtLeast(1),
			Importance: config.Low, Group: mainGroup, OrderInGroup: 7, Width: config.WidthShort,
			Doc: "The maximum number of records returned by one poll."}).
		Define(config.Key{Name: KafkaTopicConfig, Type: config.String, Default: nil, Validator: config.NonEmptyString(),
			Importance: config.Low, Group: confluentGroup, OrderInGroup: 1, Width: config.WidthMedium,
			Doc: "Confluent datagen's name for topic."}).
		Define(config.Key{Name: IterationsConfig, Type: config.Int, Default: nil,
			Importance: config.Low, Group: confluentGroup, OrderInGroup: 2, Width: config.WidthShort,
			Doc: "Confluent datagen's name for count; less than 1 means no limit. " +
				"Unlike Confluent's (default 1000000), it has no default: count applies when it is not set."}).
		Define(config.Key{Name: MaxIntervalConfig, Type: config.Long, Default: nil, Validator: optional(config.AtLeast(0)),
			Importance: config.Low, Group: confluentGroup, OrderInGroup: 3, Width: config.WidthShort,
			Doc: "Confluent datagen's milliseconds between records per task, setting rate to 1000/max.interval " +
				"(0 for as fast as possible). Confluent waits a random time up to max.interval; Sluice paces evenly. " +
				"Unlike Confluent's (default 500), it has no default: rate applies when it is not set."}).
		Define(config.Key{Name: QuickstartConfig, Type: config.String, Default: nil,
			Validator:  optional(config.CaseInsensitiveValidString(ShapeOrders, ShapeUsers, ShapePageviews, ShapeBytes)),
			Importance: config.Low, Group: confluentGroup, OrderInGroup: 4, Width: config.WidthShort,
			Doc: "Confluent datagen's quickstart name, naming the shape (case insensitive)."})
}

// optional runs v on values that are set, letting null (and, for strings,
// the empty value Confluent uses as its default) pass.
func optional(v config.Validator) config.Validator {
	return config.LambdaValidator(func(name string, value any) error {
		if value == nil || value == "" {
			return nil
		}
		return v.Validate(name, value)
	}, describe(v))
}

func describe(v config.Validator) string {
	if s, ok := v.(interface{ String() string }); ok {
		return s.String()
	}
	return ""
}

// settings is a parsed configuration with the Confluent aliases resolved.
type settings struct {
	topic     string
	shape     string
	valueSize int
	count     int64 // < 0: no limit
	rate      float64
	seed      int64
	batchSize int
}

// parseSettings parses props and resolves the aliases. Every problem is
// reported in one *config.ValidationError.
func parseSettings(props map[string]string) (settings, error) {
	vals, err := Config().Parse(props)
	if err != nil {
		return settings{}, err
	}
	s := settings{
		topic:     vals.String(TopicConfig),
		shape:     vals.String(ShapeConfig),
		valueSize: vals.Int(ValueSizeConfig),
		count:     vals.Long(CountConfig),
		rate:      vals.Double(RateConfig),
		seed:      vals.Long(SeedConfig),
		batchSize: vals.Int(BatchSizeConfig),
	}
	if !set(vals, TopicConfig) {
		s.topic = vals.String(KafkaTopicConfig)
	}
	if q := vals.String(QuickstartConfig); q != "" && !set(vals, ShapeConfig) {
		s.shape = strings.ToLower(q)
	}
	if it := vals.Get(IterationsConfig); it != nil && !set(vals, CountConfig) {
		s.count = int64(it.(int))
		if s.count < 1 {
			s.count = -1
		}
	}
	if mi := vals.Get(MaxIntervalConfig); mi != nil && !set(vals, RateConfig) {
		s.rate = 0
		if ms := mi.(int64); ms > 0 {
			s.rate = 1000 / float64(ms)
		}
	}
	return s, nil
}

// aliasRule checks what one key's declaration cannot: topic or
// kafka.topic is set, and a key and its Confluent alias do not disagree.
func aliasRule(v *config.Values) []config.Problem {
	var problems []config.Problem
	// A key present but blank is reported by its NonEmptyString validator.
	if !v.Given(TopicConfig) && !v.Given(KafkaTopicConfig) {
		problems = append(problems, config.Problem{Key: TopicConfig, Message: missingTopicMsg})
	}
	raw := v.Originals()
	for _, pair := range [][2]string{
		{TopicConfig, KafkaTopicConfig},
		{ShapeConfig, QuickstartConfig},
		{CountConfig, IterationsConfig},
		{RateConfig, MaxIntervalConfig},
	} {
		key, alias := pair[0], pair[1]
		if set(v, key) && set(v, alias) && !sameValue(key, v.Get(key), v.Get(alias)) {
			problems = append(problems, config.Problem{Key: alias, Message: config.InvalidValue(alias, strings.TrimSpace(raw[alias]),
				"conflicts with "+key+"="+strings.TrimSpace(raw[key])+"; set only one of "+key+" and "+alias).Error()})
		}
	}
	return problems
}

// set reports whether the configuration gave key a value other than blank,
// which Confluent's connector treats as unset for its string keys. A value
// that did not parse is not set (its own error reports it).
func set(v *config.Values, key string) bool {
	x := v.Get(key)
	return v.Given(key) && x != nil && x != ""
}

// sameValue reports whether a key's parsed value and its alias's say the
// same thing.
func sameValue(key string, v, alias any) bool {
	switch key {
	case ShapeConfig:
		return strings.EqualFold(v.(string), alias.(string))
	case CountConfig:
		c, it := v.(int64), int64(alias.(int))
		return c == it || c < 0 && it < 1
	case RateConfig:
		r, ms := v.(float64), alias.(int64)
		return ms == 0 && r == 0 || ms > 0 && r == 1000/float64(ms)
	}
	return v == alias
}
