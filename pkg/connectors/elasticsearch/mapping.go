package elasticsearch

import "github.com/sluicehq/sluice/pkg/connect/data"

// mapping returns the index mapping for a record value schema, as
// Confluent's connector makes it: Connect types to their Elasticsearch
// field types, structs as objects with properties, strings as text with a
// keyword sub-field, logical dates and timestamps as date, decimals as
// double. It returns nil for a schema that is not a struct.
func mapping(s *data.Schema) map[string]any {
	if s == nil || s.Type != data.TypeStruct {
		return nil
	}
	return map[string]any{"properties": properties(s)}
}

func properties(s *data.Schema) map[string]any {
	props := make(map[string]any, len(s.Fields))
	for _, f := range s.Fields {
		if m := field(f.Schema); m != nil {
			props[f.Name] = m
		}
	}
	return props
}

func field(s *data.Schema) map[string]any {
	switch s.Name {
	case data.DecimalName:
		return map[string]any{"type": "double"}
	case data.DateName, data.TimestampName, data.TimeName:
		return map[string]any{"type": "date"}
	}
	switch s.Type {
	case data.TypeInt8:
		return map[string]any{"type": "byte"}
	case data.TypeInt16:
		return map[string]any{"type": "short"}
	case data.TypeInt32:
		return map[string]any{"type": "integer"}
	case data.TypeInt64:
		return map[string]any{"type": "long"}
	case data.TypeFloat32:
		return map[string]any{"type": "float"}
	case data.TypeFloat64:
		return map[string]any{"type": "double"}
	case data.TypeBoolean:
		return map[string]any{"type": "boolean"}
	case data.TypeString:
		return map[string]any{"type": "text", "fields": map[string]any{"keyword": map[string]any{"type": "keyword", "ignore_above": 256}}}
	case data.TypeBytes:
		return map[string]any{"type": "binary"}
	case data.TypeArray:
		if s.ValueSchema != nil {
			return field(s.ValueSchema)
		}
	case data.TypeMap:
		return map[string]any{"type": "object"}
	case data.TypeStruct:
		return map[string]any{"properties": properties(s)}
	}
	return nil
}
