// Package optional lists the plugin families that a function binary may
// leave out: Lambda keeps a function's bootstrap small (at most 20 MB) by
// linking only the families a deployment uses, as Kafka Connect installs
// only the plugins on its plugin.path.
//
// A build with the tag sluice.slim leaves out every family below unless its
// own tag names it (sluice.jdbc, sluice.cdc, sluice.mqtt, sluice.search,
// sluice.protobuf, sluice.jsonschema): make build-SinkBatchFunction and
// build-SourcePollFunction build with sluice.slim plus the families in
// LAMBDA_PLUGINS ("jdbc cdc ..."). Any other build (the coordinator, the
// container image, go test) has every family.
//
// The core families, always linked, are Kafka's converters, the Schema
// Registry's Avro converter, the transforms and
// predicates, FileStream, Datagen and the storage sinks (S3, HDFS, local).
package optional

// Family is one optional plugin family: its name in LAMBDA_PLUGINS and
// whether this binary links it.
type Family struct {
	Name     string
	Included bool
}

// Families reports every optional family and whether this binary has it.
func Families() []Family {
	return []Family{
		{Name: "jdbc", Included: jdbcIncluded},
		{Name: "cdc", Included: cdcIncluded},
		{Name: "mqtt", Included: mqttIncluded},
		{Name: "search", Included: searchIncluded},
		{Name: "protobuf", Included: protobufIncluded},
		{Name: "jsonschema", Included: jsonschemaIncluded},
	}
}

// Excluded names the families this binary was built without.
func Excluded() []string {
	var out []string
	for _, f := range Families() {
		if !f.Included {
			out = append(out, f.Name)
		}
	}
	return out
}
