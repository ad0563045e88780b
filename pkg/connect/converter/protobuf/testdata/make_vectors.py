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
import decimal
import importlib
import importlib.metadata
import json
import os
import sys
import tempfile
import types

from google.protobuf import descriptor_pb2
from grpc_tools import protoc

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.confluent import meta_pb2
from confluent_kafka.schema_registry.confluent.types import decimal_pb2
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer, decimal_to_protobuf
from confluent_kafka.serialization import MessageField, SerializationContext

HERE = os.path.dirname(os.path.abspath(__file__))


def payments_module(gen):
    """Generates the classes of payments.proto, whose imports are
    Confluent's meta.proto and decimal.proto as confluent-kafka ships them
    (compiled descriptors, handed to protoc as a descriptor set)."""
    fds = descriptor_pb2.FileDescriptorSet()
    for file in (descriptor_pb2.FileDescriptorProto.DESCRIPTOR.file, meta_pb2.Meta.DESCRIPTOR.file,
                 decimal_pb2.Decimal.DESCRIPTOR.file):
        fdp = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(fdp)
        fds.file.append(fdp)
    deps = os.path.join(gen, "confluent.pb")
    with open(deps, "wb") as f:
        f.write(fds.SerializeToString())
    rc = protoc.main(["protoc", "-I" + HERE, "--descriptor_set_in=" + deps, "--python_out=" + gen,
                      os.path.join(HERE, "payments.proto")])
    if rc != 0:
        raise SystemExit("protoc failed on payments.proto")
    # The generated module imports confluent.meta_pb2 and
    # confluent.type.decimal_pb2: confluent-kafka's modules of those files.
    confluent, ctype = types.ModuleType("confluent"), types.ModuleType("confluent.type")
    confluent.__path__, ctype.__path__ = [], []
    confluent.meta_pb2, confluent.type, ctype.decimal_pb2 = meta_pb2, ctype, decimal_pb2
    sys.modules.update({"confluent": confluent, "confluent.meta_pb2": meta_pb2,
                        "confluent.type": ctype, "confluent.type.decimal_pb2": decimal_pb2})
    return importlib.import_module("payments_pb2")


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
    pay = payments_module(gen)
    p = pay.Payment(price=decimal_to_protobuf(decimal.Decimal("-1234.50"), 2),
                    rate=decimal_to_protobuf(decimal.Decimal("0.0725"), 4), tiny=-7, memo="", kind=pay.CASH)
    cases = [("full", pb.Order, o), ("defaults", pb.Order, pb.Order(voucher=3)), ("second_message", pb.Other, pb.Other(x="y")),
             ("decimals", pay.Payment, p), ("decimals_unset", pay.Payment, pay.Payment())]
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
