// Package transforms holds Apache Kafka's built-in single message
// transforms and predicates, under their Connect class names
// (org.apache.kafka.connect.transforms.X, with $Key and $Value variants
// where Connect has them) and with their exact configuration keys and
// defaults. Each works on records with a schema (Struct values) and on
// schemaless ones (map[string]any values), as Connect's do.
//
// Chain applies a connector's "transforms" in order, each guarded by its
// predicate (Connect's TransformationChain); the lease runs every record
// through it. The interfaces a transformation and a predicate implement
// are connect.Transformation and connect.Predicate.
//
// Plugins lists them all; no transform registers itself.
package transforms
