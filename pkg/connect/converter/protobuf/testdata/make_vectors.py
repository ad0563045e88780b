#!/usr/bin/env python3
"""Makes vectors.json: Protobuf messages in Confluent's wire format, written
by Confluent's own Python serializer (confluent-kafka's ProtobufSerializer)
against Confluent's MockSchemaRegistryClient (schema.registry.url mock://).
The message classes are generated from orders.proto by grpcio-tools' protoc.
Python's serializer registers the schema as a base64 FileDescriptorProto
(which Confluent's registry accepts); well-known types are not registered
(skip.known.types). Nothing here comes from Sluice.

Run from the repository root: make registry-vectors.
"""
import datetime
import importlib
import importlib.metadata
import json
import os
import sys
import tempfile

from grpc_tools import protoc

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

HERE = os.path.dirname(os.path.abspath(__file__))


def main(out):
    gen = tempfile.mkdtemp()
    wkt = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    rc = protoc.main(["protoc", "-I" + HERE, "-I" + wkt, "--python_out=" + gen, os.path.join(HERE, "orders.proto")])
    if rc != 0:
        raise SystemExit("protoc failed")
    sys.path.insert(0, gen)
    pb = importlib.import_module("orders_pb2")

    client = SchemaRegistryClient.new_client({"url": "mock://"})
    conf = {"use.deprecated.format": False}
    vectors = []

    o = pb.Order(id=7, customer="ada", amount=12.5, gift=True, status=pb.PAID,
                 lines=[pb.Line(sku="a", qty=2), pb.Line(sku="b", qty=1)], card="4111",
                 small=4000000000, ratio=0.25, blob=b"\x00\x01", delta=-3, main=pb.Line(sku="m", qty=9))
    o.attrs["k"] = 5
    o.created.FromDatetime(datetime.datetime(2024, 1, 2, 3, 4, 5, 6000))
    o.note.value = "hi"
    cases = [("full", pb.Order, o), ("defaults", pb.Order, pb.Order(voucher=3)), ("second_message", pb.Other, pb.Other(x="y"))]
    for name, cls, msg in cases:
        ser = ProtobufSerializer(cls, client, conf)
        b = ser(msg, SerializationContext(name, MessageField.VALUE))
        rs = client.get_latest_version(name + "-value")
        vectors.append({"name": name, "subject": name + "-value", "id": rs.schema_id,
                        "schema": rs.schema.schema_str, "hex": b.hex()})
    with open(out, "w") as f:
        json.dump({"generator": "confluent-kafka %s ProtobufSerializer + MockSchemaRegistryClient, grpcio-tools %s"
                   % (importlib.metadata.version("confluent-kafka"), importlib.metadata.version("grpcio-tools")),
                   "vectors": vectors}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "vectors.json"))
