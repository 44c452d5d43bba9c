#!/usr/bin/env python3
"""Command-line client for realm_measurements.v1 (Debian python3-grpcio and
python3-protobuf; no generated Python code: message classes are built at run
time from the proto_library descriptor set, so the client only depends on
the .proto, not on this server's C++).

Usage:
  client.py --target HOST:PORT --descriptors FILE info
  client.py ... upload FILE [NAME]          # streams 1 MiB chunks, prints digest
  client.py ... call METHOD [JSON | @FILE]  # any unary method, proto3 JSON
                                            # in and out (bytes as base64)
Options: --ca PEM [--cert PEM --key PEM] for TLS / mTLS; --timeout SECONDS.

Example:
  client.py --target 127.0.0.1:50051 --descriptors service_proto-descriptor-set.proto.bin \\
      call ComputeMeasurements '{"vmm":"VMM_KVMTOOL","vmmArgs":["--realm","-c","1","-m","512M"],
                                 "overrides":{"numBps":6,"numWps":6}}'
"""

import argparse
import hashlib
import json
import os
import sys


def _ensure_debian_python():
    """Re-runs this script with Debian's python3 when the interpreter Bazel
    picked (e.g. a pyenv one) lacks python3-grpcio / python3-protobuf."""
    try:
        import grpc as g  # noqa: F401
        import google.protobuf  # noqa: F401
        if hasattr(g, "insecure_channel"):  # not a namespace-package shadow
            return
    except ImportError:
        pass
    debian = "/usr/bin/python3"
    if os.path.realpath(sys.executable) != os.path.realpath(debian) and \
            os.path.exists(debian):
        os.execv(debian, [debian, os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("python3-grpcio and python3-protobuf are required "
             "(apt-get install python3-grpcio python3-protobuf)")


if __name__ == "__main__":
    _ensure_debian_python()

import grpc
from google.protobuf import descriptor_pb2
from google.protobuf import descriptor_pool
from google.protobuf import json_format
from google.protobuf import message_factory

SERVICE = "realm_measurements.v1.RealmMeasurementsService"
CHUNK = 1 << 20  # the server's per-message chunk limit


class Client:
    """Dynamic stubs for every method of the service."""

    def __init__(self, channel, descriptor_set_path, token=None):
        fds = descriptor_pb2.FileDescriptorSet()
        with open(descriptor_set_path, "rb") as f:
            fds.ParseFromString(f.read())
        self.pool = descriptor_pool.DescriptorPool()
        for fd in fds.file:
            self.pool.Add(fd)
        self.factory = message_factory.MessageFactory(self.pool)
        self.service = self.pool.FindServiceByName(SERVICE)
        self.channel = channel
        # Bearer token for a server with an access policy.
        self.metadata = (("authorization", "Bearer " + token),) if token else ()

    def message(self, full_name):
        return self.factory.GetPrototype(
            self.pool.FindMessageTypeByName(full_name))

    def _types(self, method):
        m = self.service.FindMethodByName(method)
        if m is None:
            raise ValueError("unknown method %r" % method)
        return (m, self.factory.GetPrototype(m.input_type),
                self.factory.GetPrototype(m.output_type))

    def call(self, method, request, timeout=30):
        m, req_cls, resp_cls = self._types(method)
        if m.client_streaming or m.server_streaming:
            raise ValueError("%s is streaming; use upload" % method)
        if isinstance(request, (str, bytes)):
            request = json_format.Parse(request or "{}", req_cls())
        fn = self.channel.unary_unary(
            "/%s/%s" % (SERVICE, method),
            request_serializer=req_cls.SerializeToString,
            response_deserializer=resp_cls.FromString)
        return fn(request, timeout=timeout, metadata=self.metadata)

    def upload(self, content, name="", timeout=120):
        _, req_cls, resp_cls = self._types("UploadPayload")
        digest = hashlib.sha256(content).digest()

        def messages():
            first = True
            for off in range(0, max(len(content), 1), CHUNK):
                m = req_cls(chunk=content[off:off + CHUNK])
                if first:
                    m.sha256 = digest
                    m.size = len(content)
                    m.name = name
                    first = False
                yield m

        fn = self.channel.stream_unary(
            "/%s/UploadPayload" % SERVICE,
            request_serializer=req_cls.SerializeToString,
            response_deserializer=resp_cls.FromString)
        return fn(messages(), timeout=timeout, metadata=self.metadata)


def to_json(message):
    return json_format.MessageToJson(message, indent=2, sort_keys=True)


def make_channel(args):
    options = [("grpc.max_send_message_length", 64 << 20),
               ("grpc.max_receive_message_length", 64 << 20)]
    if not args.ca:
        return grpc.insecure_channel(args.target, options=options)

    def read(p):
        with open(p, "rb") as f:
            return f.read()

    creds = grpc.ssl_channel_credentials(
        root_certificates=read(args.ca),
        private_key=read(args.key) if args.key else None,
        certificate_chain=read(args.cert) if args.cert else None)
    return grpc.secure_channel(args.target, creds, options=options)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--target", required=True)
    p.add_argument("--descriptors", required=True)
    p.add_argument("--ca")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--token_file",
                   help="file holding a bearer token, sent as "
                        "'authorization: Bearer <token>' metadata")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("info")
    up = sub.add_parser("upload")
    up.add_argument("file")
    up.add_argument("name", nargs="?", default="")
    c = sub.add_parser("call")
    c.add_argument("method")
    c.add_argument("request", nargs="?", default="{}")
    args = p.parse_args(argv)

    token = None
    if args.token_file:
        with open(args.token_file) as f:
            token = f.read().strip()
    client = Client(make_channel(args), args.descriptors, token)
    try:
        if args.command == "info":
            print(to_json(client.call("GetServiceInfo", "{}", args.timeout)))
        elif args.command == "upload":
            with open(args.file, "rb") as f:
                content = f.read()
            r = client.upload(content, args.name or args.file, args.timeout)
            print(json.dumps({"sha256": r.sha256.hex(), "size": r.size,
                              "alreadyPresent": r.already_present}))
        else:
            req = args.request
            if req.startswith("@"):
                with open(req[1:]) as f:
                    req = f.read()
            print(to_json(client.call(args.method, req, args.timeout)))
    except grpc.RpcError as e:
        # The server returns the id its access log has the call under.
        rid = ""
        if hasattr(e, "initial_metadata"):
            for key, value in e.initial_metadata() or ():
                if key == "x-request-id":
                    rid = " (request id %s)" % value
        print("ERROR %s: %s%s" % (e.code().name, e.details(), rid),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
