#!/usr/bin/env python3
"""Deserializes Sluice's bytes and Confluent's original bytes with
confluent-kafka's own deserializers, against the registry at URL (see
main.go), and requires the same values. Prints one line per vector and the
closing count; exits non-zero on any difference."""
import json
import sys

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def main(url, path):
    client = SchemaRegistryClient({"url": url})
    deser = {"avro": AvroDeserializer(client)}
    pairs = json.load(open(path))
    passed = failed = 0
    for p in pairs:
        if p["format"] == "avro":
            d = deser["avro"]
        else:
            # The JSONDeserializer takes the writer's schema from the id
            # when it is given none, and validates the payload with it.
            d = JSONDeserializer(None, schema_registry_client=client)
        want = d(bytes.fromhex(p["original"]), SerializationContext(p["original_topic"], MessageField.VALUE))
        got = d(bytes.fromhex(p["sluice"]), SerializationContext(p["sluice_topic"], MessageField.VALUE))
        if got == want:
            passed += 1
            print("ok", p["format"], p["name"])
        else:
            failed += 1
            print("DIFFERENT", p["format"], p["name"], "\n  sluice:  ", got, "\n  original:", want)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
