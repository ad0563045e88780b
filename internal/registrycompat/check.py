#!/usr/bin/env python3
"""Deserializes Sluice's bytes and Confluent's original bytes with
confluent-kafka's own deserializers, against the registry at URL (see
main.go), and requires the same values. Prints one line per vector and the
closing count; exits non-zero on any difference."""
import json
import os
import sys
import tempfile

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from grpc_tools import protoc

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.confluent import meta_pb2
from confluent_kafka.schema_registry.confluent.types import decimal_pb2
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer

HERE = os.path.dirname(os.path.abspath(__file__))
WKT = os.path.join(os.path.dirname(protoc.__file__), "_proto")


def confluent_files():
    """Confluent's meta.proto and decimal.proto as confluent-kafka ships them
    (compiled descriptors), as a descriptor set file for protoc's imports."""
    fds = descriptor_pb2.FileDescriptorSet()
    for file in (meta_pb2.Meta.DESCRIPTOR.file, decimal_pb2.Decimal.DESCRIPTOR.file):
        fdp = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(fdp)
        fds.file.append(fdp)
    out = os.path.join(tempfile.mkdtemp(), "confluent.pb")
    with open(out, "wb") as f:
        f.write(fds.SerializeToString())
    return out


CONFLUENT = confluent_files()


def compile_proto(include_dir, filename):
    """Compiles a .proto file with protoc into a descriptor pool of its own
    (Sluice's .proto and the vectors' define the same message names) and
    returns a function giving a message class by full name."""
    out = os.path.join(tempfile.mkdtemp(), "set.pb")
    if protoc.main(["protoc", "-I" + include_dir, "-I" + WKT, "--descriptor_set_in=" + CONFLUENT, "--include_imports",
                    "--descriptor_set_out=" + out, os.path.join(include_dir, filename)]) != 0:
        raise SystemExit("protoc failed on " + filename)
    fds = descriptor_pb2.FileDescriptorSet()
    with open(out, "rb") as f:
        fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    main = fds.file[-1]
    return lambda name: message_factory.GetMessageClass(pool.FindMessageTypeByName(name)), main


def normalized(msg):
    """A message as a dict of strings, proto3 defaults printed: Sluice's
    .proto maps uint32 to int64 and enums and wrappers to plain strings,
    which print alike. An empty string is dropped: a null wrapper (absent)
    reads in Connect as null and Sluice writes it as a plain proto3 string,
    whose default is ""."""
    def norm(v):
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items() if x != ""}
        if isinstance(v, list):
            return [norm(x) for x in v]
        return str(v)
    return norm(json_format.MessageToDict(msg, preserving_proto_field_name=True,
                                          always_print_fields_with_no_presence=True))


def protobuf_pair(client, p, original_module):
    ctx_o = SerializationContext(p["original_topic"], MessageField.VALUE)
    ctx_s = SerializationContext(p["sluice_topic"], MessageField.VALUE)
    original = bytes.fromhex(p["original"])
    # The vectors' message: the index after the id names it.
    cls = original_module({"full": "sluice.test.Order", "defaults": "sluice.test.Order",
                           "second_message": "sluice.test.Other", "decimals": "sluice.test.Payment",
                           "decimals_unset": "sluice.test.Payment"}[p["name"]])
    want = ProtobufDeserializer(cls, {"use.deprecated.format": False})(original, ctx_o)
    sluice = bytes.fromhex(p["sluice"])
    text = client.get_schema(int.from_bytes(sluice[1:5], "big")).schema_str
    d = tempfile.mkdtemp()
    name = "sluice_%s.proto" % p["name"]
    with open(os.path.join(d, name), "w") as f:
        f.write(text)
    lookup, fdp = compile_proto(d, name)
    # Sluice writes message index [0]: the file's first message.
    got_cls = lookup((fdp.package + "." if fdp.package else "") + fdp.message_type[0].name)
    got = ProtobufDeserializer(got_cls, {"use.deprecated.format": False})(sluice, ctx_s)
    return normalized(got), normalized(want)
from confluent_kafka.serialization import MessageField, SerializationContext


def main(url, path):
    client = SchemaRegistryClient({"url": url})
    deser = {"avro": AvroDeserializer(client)}
    pairs = json.load(open(path))
    testdata = os.path.join(HERE, "..", "..", "pkg", "connect", "converter", "protobuf", "testdata")
    orders, _ = compile_proto(testdata, "orders.proto")
    payments, _ = compile_proto(testdata, "payments.proto")
    passed = failed = 0
    for p in pairs:
        if p["format"] == "protobuf":
            got, want = protobuf_pair(client, p, payments if p["name"].startswith("decimals") else orders)
        else:
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
