#!/usr/bin/env python3
"""Makes vectors.json: Avro values in Confluent's wire format, written by
Confluent's own Python serializer (confluent-kafka's AvroSerializer, which
encodes with fastavro) against Confluent's MockSchemaRegistryClient
(schema.registry.url mock://: ids are given out from 1 in registration
order, as a fresh registry does). Nothing here comes from Sluice.

Run from the repository root: make avro-vectors (which installs
confluent-kafka 2.16.1 with its Avro extras in a virtualenv under
$HOME/.cache/sluice/sr-venv and runs this script).
"""
import datetime
import decimal
import importlib.metadata
import json
import os
import sys

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

UTC = datetime.timezone.utc

# (name, schema, value). Each case is its own topic, so its own subject.
CASES = [
    ("primitives", {
        "type": "record", "name": "Primitives", "namespace": "sluice.test",
        "fields": [
            {"name": "b", "type": "boolean"},
            {"name": "i", "type": "int"},
            {"name": "l", "type": "long"},
            {"name": "f", "type": "float"},
            {"name": "d", "type": "double"},
            {"name": "s", "type": "string"},
            {"name": "y", "type": "bytes"},
        ]},
     {"b": True, "i": -42, "l": 1 << 40, "f": 1.5, "d": -2.25, "s": "héllo", "y": b"\x00\xff"}),
    ("optional_and_defaults", {
        "type": "record", "name": "Opt", "namespace": "sluice.test",
        "fields": [
            {"name": "a", "type": ["null", "string"], "default": None},
            {"name": "b", "type": ["null", "long"], "default": None},
            {"name": "c", "type": "int", "default": 7},
            {"name": "d", "type": "string", "default": "x", "doc": "a documented field"},
        ]},
     {"a": None, "b": 5, "c": 7, "d": "y"}),
    ("nested_arrays_maps", {
        "type": "record", "name": "Order", "namespace": "sluice.test",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "customer", "type": {
                "type": "record", "name": "Customer",
                "fields": [{"name": "name", "type": "string"},
                           {"name": "tags", "type": {"type": "array", "items": "string"}}]}},
            {"name": "lines", "type": {"type": "array", "items": {
                "type": "record", "name": "Line",
                "fields": [{"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}]}}},
            {"name": "attrs", "type": {"type": "map", "values": "long"}},
            {"name": "note", "type": ["null", "Customer"], "default": None},
        ]},
     {"id": 1, "customer": {"name": "ada", "tags": ["a", "b"]},
      "lines": [{"sku": "x1", "qty": 2}, {"sku": "y2", "qty": 1}],
      "attrs": {"k": 3}, "note": None}),
    ("logical_types", {
        "type": "record", "name": "Logical", "namespace": "sluice.test",
        "fields": [
            {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "at", "type": {"type": "int", "logicalType": "time-millis"}},
            {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "maybe_ts", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": None},
        ]},
     {"amount": decimal.Decimal("-1234.50"), "day": datetime.date(2024, 1, 2),
      "at": datetime.time(13, 14, 15, 16000), "ts": datetime.datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
      "maybe_ts": datetime.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)}),
    ("enum_fixed_union", {
        "type": "record", "name": "Kinds", "namespace": "sluice.test",
        "fields": [
            {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"]}},
            {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
            {"name": "either", "type": ["int", "string"]},
            {"name": "either_null", "type": ["null", "int", "string"], "default": None},
        ]},
     {"color": "GREEN", "hash": b"\x01\x02\x03\x04", "either": "two", "either_null": 3}),
    # A schema as Confluent's AvroConverter registers it for a Connect
    # schema: connect.* properties, int8/int16, a map with non-string keys
    # as an array of MapEntry records, and the Connect logical types.
    ("connect_schema", {
        "type": "record", "name": "ConnectDefault", "namespace": "io.confluent.connect.avro",
        "fields": [
            {"name": "tiny", "type": {"type": "int", "connect.type": "int8"}},
            {"name": "small", "type": {"type": "int", "connect.type": "int16"}},
            {"name": "byid", "type": {"type": "array", "items": {
                "type": "record", "name": "MapEntry", "namespace": "io.confluent.connect.avro",
                "fields": [{"name": "key", "type": "int"}, {"name": "value", "type": "string"}]}}},
            {"name": "price", "type": {"type": "bytes", "scale": 3, "precision": 64,
                                       "connect.version": 1, "connect.parameters": {"scale": "3"},
                                       "connect.name": "org.apache.kafka.connect.data.Decimal",
                                       "logicalType": "decimal"}},
            {"name": "day", "type": ["null", {"type": "int", "connect.version": 1,
                                              "connect.name": "org.apache.kafka.connect.data.Date",
                                              "logicalType": "date"}], "default": None},
            {"name": "label", "type": {"type": "string", "connect.doc": "a label",
                                       "connect.default": "none", "connect.version": 3,
                                       "connect.parameters": {"k": "v"},
                                       "connect.name": "sluice.Label"}, "default": "none"},
        ],
        "connect.version": 2, "connect.doc": "a Connect struct"},
     {"tiny": -8, "small": 300, "byid": [{"key": 1, "value": "one"}, {"key": 2, "value": "two"}],
      "price": decimal.Decimal("12.345"), "day": datetime.date(1970, 1, 11), "label": "L"}),
    ("primitive_value", "string", "just a string"),
    # Recursive (self-referencing) records, which Confluent's AvroData maps
    # to a cyclic Connect schema (its CyclicSchemaWrapper): a linked list
    # through an optional field, a tree through an array and a map, two
    # records that refer to each other, a record inside a general union, and
    # a cycle closed through a required record field.
    ("recursive_list", {
        "type": "record", "name": "Node", "namespace": "sluice.test",
        "fields": [
            {"name": "value", "type": "int"},
            {"name": "next", "type": ["null", "Node"], "default": None},
        ]},
     {"value": 1, "next": {"value": 2, "next": {"value": 3, "next": None}}}),
    ("recursive_tree", {
        "type": "record", "name": "Tree", "namespace": "sluice.test",
        "fields": [
            {"name": "label", "type": "string"},
            {"name": "children", "type": {"type": "array", "items": "Tree"}},
            {"name": "byname", "type": {"type": "map", "values": "Tree"}},
        ]},
     {"label": "root",
      "children": [{"label": "a", "children": [], "byname": {}},
                   {"label": "b", "children": [{"label": "b1", "children": [], "byname": {}}], "byname": {}}],
      "byname": {"c": {"label": "c", "children": [], "byname": {}}}}),
    ("recursive_mutual", {
        "type": "record", "name": "Person", "namespace": "sluice.test",
        "fields": [
            {"name": "name", "type": "string"},
            {"name": "employer", "type": ["null", {
                "type": "record", "name": "Company",
                "fields": [
                    {"name": "title", "type": "string"},
                    {"name": "ceo", "type": ["null", "Person"], "default": None},
                ]}], "default": None},
        ]},
     {"name": "ada", "employer": {"title": "acme", "ceo": {"name": "bob", "employer": None}}}),
    ("recursive_union", {
        "type": "record", "name": "Expr", "namespace": "sluice.test",
        "fields": [
            {"name": "op", "type": "string"},
            {"name": "args", "type": {"type": "array", "items": ["long", "Expr"]}},
        ]},
     {"op": "+", "args": [1, {"op": "*", "args": [2, 3]}]}),
    # A record field (not a union, array or map) back to the outer record,
    # with a union on the way: AvroData compiles the record again there and
    # closes the cycle at the union.
    ("recursive_unrolled", {
        "type": "record", "name": "A", "namespace": "sluice.test",
        "fields": [
            {"name": "name", "type": "string"},
            {"name": "b", "type": ["null", {
                "type": "record", "name": "B",
                "fields": [{"name": "a", "type": "A"}]}], "default": None},
        ]},
     {"name": "x", "b": {"a": {"name": "y", "b": {"a": {"name": "z", "b": None}}}}}),
]


def main(out):
    client = SchemaRegistryClient.new_client({"url": "mock://"})
    vectors = []
    for name, schema, value in CASES:
        ser = AvroSerializer(client, json.dumps(schema))
        topic = name
        b = ser(value, SerializationContext(topic, MessageField.VALUE))
        vectors.append({"name": name, "subject": topic + "-value", "id": int.from_bytes(b[1:5], "big"),
                        "schema": json.dumps(schema), "hex": b.hex()})
    with open(out, "w") as f:
        json.dump({"generator": "confluent-kafka %s AvroSerializer + MockSchemaRegistryClient" % importlib.metadata.version("confluent-kafka"),
                   "vectors": vectors}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "vectors.json"))
