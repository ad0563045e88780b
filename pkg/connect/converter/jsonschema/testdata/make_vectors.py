#!/usr/bin/env python3
"""Makes vectors.json: JSON values in Confluent's wire format, written by
Confluent's own Python serializer (confluent-kafka's JSONSerializer, which
validates the value against the schema before writing it) against
Confluent's MockSchemaRegistryClient (schema.registry.url mock://: ids from
1 in registration order). Nothing here comes from Sluice.

Run from the repository root: make registry-vectors.
"""
import importlib.metadata
import json
import os
import sys

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.json_schema import JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

CASES = [
    ("draft7_object", {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "sluice.test.Order", "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "price": {"type": "number"},
            "name": {"type": "string", "description": "who"},
            "paid": {"type": "boolean"},
            "note": {"oneOf": [{"type": "null"}, {"type": "string"}]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "customer": {"type": "object", "title": "sluice.test.Customer",
                         "properties": {"first": {"type": "string"}}, "required": ["first"]},
            "attrs": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
        "required": ["id", "price", "name", "paid", "tags", "customer", "attrs"]},
     {"id": 42, "price": 9.5, "name": "ada", "paid": True, "note": None, "tags": ["a", "b"],
      "customer": {"first": "Ada"}, "attrs": {"k": 1}}),
    ("draft2020_refs", {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "sluice.test.Shipment", "type": "object",
        "$defs": {"addr": {"type": "object", "title": "sluice.test.Address",
                           "properties": {"city": {"type": "string"}}, "required": ["city"]}},
        "properties": {
            "from": {"$ref": "#/$defs/addr"},
            "to": {"$ref": "#/$defs/addr"},
            "weight": {"type": ["number", "null"]},
        },
        "required": ["from", "to"]},
     {"from": {"city": "Paris"}, "to": {"city": "Oslo"}, "weight": None}),
    # A schema as Confluent's JsonSchemaConverter registers a Connect schema.
    ("connect_schema", {
        "type": "object", "title": "sluice.test.Connect",
        "properties": {
            "tiny": {"type": "integer", "connect.index": 0, "connect.type": "int8"},
            "blob": {"type": "string", "connect.index": 1, "connect.type": "bytes"},
            "amount": {"type": "number", "title": "org.apache.kafka.connect.data.Decimal", "connect.version": 1,
                       "connect.index": 2, "connect.parameters": {"scale": "2"}},
            "day": {"oneOf": [{"type": "null"}, {"type": "integer", "title": "org.apache.kafka.connect.data.Date",
                                                 "connect.version": 1, "connect.type": "int32"}], "connect.index": 3},
            "f": {"type": "number", "connect.index": 4, "connect.type": "float32"},
        },
        "required": ["tiny", "blob", "amount", "f"]},
     {"tiny": -3, "blob": "AAE=", "amount": 12.34, "day": 19000, "f": 1.5}),
]


def main(out):
    client = SchemaRegistryClient.new_client({"url": "mock://"})
    vectors = []
    for name, schema, value in CASES:
        ser = JSONSerializer(json.dumps(schema), client)
        b = ser(value, SerializationContext(name, MessageField.VALUE))
        vectors.append({"name": name, "subject": name + "-value", "id": int.from_bytes(b[1:5], "big"),
                        "schema": json.dumps(schema), "hex": b.hex()})
    with open(out, "w") as f:
        json.dump({"generator": "confluent-kafka %s JSONSerializer + MockSchemaRegistryClient"
                   % importlib.metadata.version("confluent-kafka"), "vectors": vectors}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "vectors.json"))
