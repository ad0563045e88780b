// Package transforms holds Apache Kafka's built-in single message
// transforms and predicates, under their Connect class names
// (org.apache.kafka.connect.transforms.X, with $Key and $Value variants
// where Connect has them) and with their exact configuration keys and
// defaults. Each works on records with a schema (Struct values) and on
// schemaless ones (map[string]any values), as Connect's do.
//
// Plugins lists them all; no transform registers itself.
package transforms
