package schemaregistry

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Serializer and deserializer properties every Schema Registry converter
// takes, named as Confluent's AbstractKafkaSchemaSerDeConfig.
const (
	AutoRegisterConfig       = "auto.register.schemas"
	UseLatestVersionConfig   = "use.latest.version"
	LatestCompatStrictConfig = "latest.compatibility.strict"
	NormalizeSchemasConfig   = "normalize.schemas"
	KeySubjectStrategyConfig = "key.subject.name.strategy"
	ValSubjectStrategyConfig = "value.subject.name.strategy"
	UseSchemaIDConfig        = "use.schema.id"
	IDCompatStrictConfig     = "id.compatibility.strict"
	TopicNameStrategyClass   = "io.confluent.kafka.serializers.subject.TopicNameStrategy"
	RecordNameStrategyClass  = "io.confluent.kafka.serializers.subject.RecordNameStrategy"
	TopicRecordStrategyClass = "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"
)

// SubjectStrategy names the subject a record's schema is registered under
// (Confluent's SubjectNameStrategy).
type SubjectStrategy int

// The strategies.
const (
	// TopicName is "<topic>-key" or "<topic>-value".
	TopicName SubjectStrategy = iota
	// RecordName is the record's fully qualified name.
	RecordName
	// TopicRecordName is "<topic>-<record name>".
	TopicRecordName
)

// Subject returns the subject for topic and, for the record strategies,
// the record's fully qualified name (an error when it has none).
func (s SubjectStrategy) Subject(topic string, isKey bool, recordName string) (string, error) {
	switch s {
	case RecordName, TopicRecordName:
		if recordName == "" {
			return "", fmt.Errorf("the record name strategies need a named record schema")
		}
		if s == RecordName {
			return recordName, nil
		}
		return topic + "-" + recordName, nil
	}
	if isKey {
		return topic + "-key", nil
	}
	return topic + "-value", nil
}

// SerdeSettings is a converter's registry configuration: the client's and
// how subjects and schemas are chosen.
type SerdeSettings struct {
	Client Settings
	// AutoRegister registers the writer's schema (default true).
	AutoRegister bool
	// UseLatestVersion writes with the subject's latest schema instead of
	// the record's (default false).
	UseLatestVersion bool
	// LatestCompatStrict checks that the latest schema is backward
	// compatible with the record's (default true).
	LatestCompatStrict bool
	// Normalize asks the registry to normalize schemas (default false).
	Normalize bool
	// UseSchemaID, when not -1, is the id every value is written with.
	UseSchemaID int
	// Strategy is the subject name strategy for this converter's side.
	Strategy SubjectStrategy
}

// ParseSerdeSettings reads a converter's properties (prefix already
// stripped). Every bad value is reported.
func ParseSerdeSettings(props map[string]string, isKey bool) (SerdeSettings, error) {
	var errs []error
	c := SerdeSettings{AutoRegister: true, LatestCompatStrict: true, UseSchemaID: -1}
	cc, err := ParseSettings(props)
	if err != nil {
		errs = append(errs, err)
	}
	c.Client = cc
	boolKey := func(k string, into *bool) {
		v, ok := props[k]
		if !ok {
			return
		}
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			*into = true
		case "false":
			*into = false
		default:
			errs = append(errs, &ConfigError{Key: k, Value: v, Reason: "Expected value to be either true or false"})
		}
	}
	boolKey(AutoRegisterConfig, &c.AutoRegister)
	boolKey(UseLatestVersionConfig, &c.UseLatestVersion)
	boolKey(LatestCompatStrictConfig, &c.LatestCompatStrict)
	boolKey(NormalizeSchemasConfig, &c.Normalize)
	if v, ok := props[UseSchemaIDConfig]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, &ConfigError{Key: UseSchemaIDConfig, Value: v, Reason: "Not a number of type INT"})
		}
		c.UseSchemaID = n
	}
	key := ValSubjectStrategyConfig
	if isKey {
		key = KeySubjectStrategyConfig
	}
	switch v := strings.TrimSpace(props[key]); v {
	case "", TopicNameStrategyClass, "TopicNameStrategy":
	case RecordNameStrategyClass, "RecordNameStrategy":
		c.Strategy = RecordName
	case TopicRecordStrategyClass, "TopicRecordNameStrategy":
		c.Strategy = TopicRecordName
	default:
		errs = append(errs, &ConfigError{Key: key, Value: v, Reason: "Class " + v + " could not be found."})
	}
	return c, errors.Join(errs...)
}
