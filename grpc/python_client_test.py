#!/usr/bin/env python3
"""Independent client test: Debian's python3-grpcio drives the real
realm-measurements-server binary (started on 127.0.0.1:0 over a fresh data
directory) through grpc/client.py. Expected values come from the golden
corpus and the public token/CoRIM vectors, not from the server.

Args: SERVER CLIENT_PY DESCRIPTOR_SET CASES_JSON GOLDEN_FW_TEXT
      CORIM_2025 TOKEN_02 TA_IAK_P256
"""

import base64
import hashlib
import importlib.util
import json
import os
import re
import resource
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest


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

ARGS = sys.argv[1:9]
del sys.argv[1:9]
(SERVER, CLIENT_PY, DESCRIPTORS, CASES, FW_TEXT, CORIM, TOKEN02,
 TA_IAK) = ARGS

spec = importlib.util.spec_from_file_location("rm_client", CLIENT_PY)
rm_client = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rm_client)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def golden(case_id):
    """The five 64-byte values the reference tool printed for a case."""
    cases = json.loads(read(CASES))["cases"]
    case = next(c for c in cases if c["id"] == case_id)
    values = {}
    for line in case["expected_stdout"].splitlines():
        k, v = line.split(": ")
        values[k] = bytes.fromhex(v)
    return values


def b64(data):
    return base64.b64encode(data).decode()


class ServerProcess:
    def __init__(self, data_dir, extra=(), preexec_fn=None):
        # No access log: nobody reads stderr until the end (a full pipe
        # would block the server).
        self.proc = subprocess.Popen(
            [SERVER, "--data_dir=" + data_dir, "--listen=127.0.0.1:0",
             "--allow_unsigned_corim",
             "--access_log=false"] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=preexec_fn)
        line = self.proc.stdout.readline()
        self.metrics_port = None
        m = re.match(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", line)
        if m:
            self.metrics_port = int(m.group(1))
            line = self.proc.stdout.readline()
        m = re.match(r"listening on (127\.0\.0\.1:\d+) \(plaintext\)", line)
        if not m:
            self.proc.kill()
            raise AssertionError("server did not start: %r %s" %
                                 (line, self.proc.stderr.read()))
        self.target = m.group(1)
        self.channel = grpc.insecure_channel(self.target)
        self.client = rm_client.Client(self.channel, DESCRIPTORS)

    def stop(self):
        self.channel.close()
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=20)
        return self.proc.returncode, out


class PythonClientTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        self.server = ServerProcess(self.dir)
        self.c = self.server.client

    def tearDown(self):
        if self.server.proc.poll() is None:
            self.server.stop()

    def test_info_compute_appraise_restart(self):
        info = self.c.call("GetServiceInfo", "{}")
        self.assertEqual(info.version, "0.1.0")
        jwk = json.loads(info.ear_verification_key_jwk)
        self.assertEqual((jwk["kty"], jwk["crv"]), ("EC", "P-256"))

        # Golden kvm-min-sha256: no payloads, CLI overrides 6/6.
        want = golden("kvm-min-sha256")
        r = self.c.call("ComputeMeasurements", json.dumps({
            "vmm": "VMM_KVMTOOL",
            "vmmArgs": ["--realm", "-c", "1", "-m", "512M"],
            "overrides": {"numBps": 6, "numWps": 6}}))
        self.assertEqual(r.rim, want["RIM"][:32])
        self.assertEqual(list(r.rems), [want["REM%d" % i][:32]
                                        for i in range(4)])

        # Golden kvm-fw-text-upstream: firmware uploaded, then referenced.
        fw = read(FW_TEXT)
        up = self.c.upload(fw, "fw-text")
        self.assertEqual(up.sha256, hashlib.sha256(fw).digest())
        self.assertFalse(up.already_present)
        self.assertTrue(self.c.upload(fw).already_present)
        want = golden("kvm-fw-text-upstream")
        r = self.c.call("ComputeMeasurements", json.dumps({
            "vmm": "VMM_KVMTOOL",
            "vmmArgs": ["--realm", "--firmware", "firmware", "-c", "1",
                        "-m", "512M"],
            "overrides": {"numBps": 6, "numWps": 6},
            "firmware": {"sha256": b64(up.sha256)}}))
        self.assertEqual(r.rim, want["RIM"][:32])

        # Provision the Veraison CoRIM, appraise token 02 against it
        # (testdata/vectors/README.md: realm claims match, P-256 IAK).
        p = self.c.call("ProvisionReferenceValues", json.dumps({
            "name": "veraison", "corim": b64(read(CORIM))}))
        self.assertEqual(p.set.corim_sha256, hashlib.sha256(read(CORIM)).digest())
        a = self.c.call("AppraiseToken", json.dumps({
            "token": b64(read(TOKEN02)), "cpak": b64(read(TA_IAK)),
            "storedSet": "veraison"}))
        self.assertTrue(a.affirms, a.report_json)
        self.assertEqual(a.realm.executables, 2)
        self.assertEqual(len(a.ear_jwt.split(".")), 3)

        # Clean errors.
        with self.assertRaises(grpc.RpcError) as e:
            self.c.call("ComputeMeasurements", "{}")
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("vmm: expected", e.exception.details())

        # Graceful SIGTERM, then a restart on the same data directory keeps
        # the set, the payload and the EAR key.
        code, out = self.server.stop()
        self.assertEqual(code, 0)
        self.assertIn("stopped", out)
        self.server = ServerProcess(self.dir)
        self.c = self.server.client
        sets = self.c.call("ListReferenceValues", "{}").sets
        self.assertEqual([s.name for s in sets], ["veraison"])
        self.assertTrue(self.c.upload(fw).already_present)
        self.assertEqual(
            self.c.call("GetServiceInfo", "{}").ear_verification_key_jwk,
            info.ear_verification_key_jwk)

    def test_command_line(self):
        out = subprocess.run(
            [sys.executable, CLIENT_PY, "--target", self.server.target,
             "--descriptors", DESCRIPTORS, "call", "ListReferenceValues"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout), {})
        out = subprocess.run(
            [sys.executable, CLIENT_PY, "--target", self.server.target,
             "--descriptors", DESCRIPTORS, "call", "DeleteReferenceValues",
             '{"name": "nope"}'],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1)
        # With the id the server logged the call under.
        self.assertRegex(out.stderr.strip(),
                         r"^ERROR NOT_FOUND: no reference-value set named "
                         r"'nope' \(request id [0-9a-f]{16}\)$")


class PolicyTest(unittest.TestCase):
    """Issue 15: a bearer token from --token_file, roles enforced."""

    def test_token_roles(self):
        d = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        token = os.path.join(d, "token")
        with open(token, "w") as f:
            f.write("py-token\n")
        policy = os.path.join(d, "policy.toml")
        with open(policy, "w") as f:
            f.write('[[principal]]\nname = "py"\ntoken_sha256 = "%s"\n'
                    'roles = ["reader"]\n' %
                    hashlib.sha256(b"py-token").hexdigest())
        server = ServerProcess(os.path.join(d, "data"),
                               ["--access_policy=" + policy])
        try:
            def cli(*extra):
                return subprocess.run(
                    [sys.executable, CLIENT_PY, "--target", server.target,
                     "--descriptors", DESCRIPTORS] + list(extra),
                    capture_output=True, text=True, timeout=60)
            out = cli("--token_file", token, "info")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("earVerificationJwks", json.loads(out.stdout))
            out = cli("info")
            self.assertEqual(out.returncode, 1)
            self.assertTrue(out.stderr.startswith("ERROR UNAUTHENTICATED: "),
                            out.stderr)
            out = cli("--token_file", token, "call", "DeleteReferenceValues",
                      '{"name": "x"}')
            self.assertEqual(out.returncode, 1)
            self.assertRegex(
                out.stderr.strip(),
                r"^ERROR PERMISSION_DENIED: principal 'py' lacks role "
                r"provisioner needed by DeleteReferenceValues \(request id "
                r"[0-9a-f]{16}\)$")
        finally:
            server.stop()


def server_settings(target):
    """The HTTP/2 SETTINGS the server sends first, read over a raw socket:
    {identifier: value}."""
    host, port = target.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        # Client preface and an empty SETTINGS frame (RFC 9113 3.4, 6.5).
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" +
                     b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        data = b""
        while True:
            while len(data) < 9:
                chunk = sock.recv(4096)
                if not chunk:
                    raise AssertionError("connection closed before SETTINGS")
                data += chunk
            length = int.from_bytes(data[0:3], "big")
            kind, flags = data[3], data[4]
            while len(data) < 9 + length:
                data += sock.recv(4096)
            payload, data = data[9:9 + length], data[9 + length:]
            if kind == 4 and not flags & 1:  # SETTINGS, not an ACK
                return {int.from_bytes(payload[i:i + 2], "big"):
                        int.from_bytes(payload[i + 2:i + 6], "big")
                        for i in range(0, length, 6)}


class StreamLimitTest(unittest.TestCase):
    """--max_streams_per_connection: SETTINGS_MAX_CONCURRENT_STREAMS (0x3)
    on every connection, so one client cannot queue unbounded calls in the
    server; a client beyond it waits, nothing fails."""

    MAX_CONCURRENT_STREAMS = 0x3

    def test_default_and_flag(self):
        d = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        for extra, want in (([], 128), (["--max_streams_per_connection=7"], 7)):
            server = ServerProcess(os.path.join(d, "data%d" % want), extra)
            try:
                self.assertEqual(
                    server_settings(server.target).get(
                        self.MAX_CONCURRENT_STREAMS), want, extra)
                if want == 7:
                    # 200 calls at once on one channel: all answered.
                    call = server.channel.unary_unary(
                        "/realm_measurements.v1.RealmMeasurementsService/"
                        "GetServiceInfo")
                    futures = [call.future(b"", timeout=60)
                               for _ in range(200)]
                    for f in futures:
                        self.assertTrue(f.result())
            finally:
                server.stop()

    def test_out_of_range_is_refused(self):
        d = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        proc = subprocess.run(
            [SERVER, "--data_dir=" + os.path.join(d, "data"),
             "--listen=127.0.0.1:0", "--max_streams_per_connection=0"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr, "ERROR max_streams_per_connection: "
                         "expected 1 to 65536, found 0\n")


def open_file_limit(n):
    """preexec_fn: the child's soft and hard open-file limits."""
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))


def flood(target, n):
    """n raw connections, each having sent the HTTP/2 preface; returns them
    once the server has had 2 s to answer or close each."""
    host, port = target.rsplit(":", 1)
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" +
                  bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))
        socks.append(s)
    time.sleep(2)
    return socks


def closed_by_server(s):
    """True when the server closed s; an open HTTP/2 connection has sent
    its SETTINGS frame and waits."""
    s.setblocking(False)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def scrape(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        out = b""
        while True:
            data = s.recv(65536)
            if not data:
                return out.decode()
            out += data


def counter(text, name):
    m = re.search(r"^realm_measurements_%s (\d+)$" % name, text, re.M)
    return int(m.group(1)) if m else None


class ConnectionLimitTest(unittest.TestCase):
    """--max_connections, and Debian gRPC 1.51's listener, which stops
    accepting for good once accept4 fails with EMFILE (grpc/grpc#20418):
    connections past the limit are closed at once instead, the rest of the
    server keeps working, and it accepts again when they are gone."""

    def setUp(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 1024:
            self.skipTest("needs 1024 open files, the hard limit is %d" % hard)
        if soft != resource.RLIM_INFINITY and soft < 1024:
            resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
        self.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()

    def assert_refused_then_served(self, server, limit, n):
        self.socks = flood(server.target, n)
        closed = [closed_by_server(s) for s in self.socks]
        self.assertEqual(closed.count(False), limit)
        self.assertEqual(closed.count(True), n - limit)
        # A new client is told at once, not left waiting.
        channel = grpc.insecure_channel(server.target)
        call = channel.unary_unary(
            "/realm_measurements.v1.RealmMeasurementsService/GetServiceInfo")
        with self.assertRaises(grpc.RpcError) as e:
            call(b"", timeout=20)
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAVAILABLE)
        channel.close()
        text = scrape(server.metrics_port)  # the metrics endpoint is exempt
        self.assertGreaterEqual(
            counter(text, "connections_refused_over_limit_total"), n - limit)
        self.assertEqual(
            counter(text, "connections_refused_no_descriptor_total"), 0)
        for s in self.socks:
            s.close()
        self.socks = []
        time.sleep(1)
        info = server.client.call("GetServiceInfo", "{}")
        self.assertEqual(info.version, "0.1.0")

    def test_flag(self):
        server = ServerProcess(os.path.join(self.dir, "data"),
                               ["--max_connections=20",
                                "--metrics_listen=127.0.0.1:0"])
        try:
            self.assert_refused_then_served(server, 20, 60)
        finally:
            server.stop()

    def test_more_connections_than_open_files(self):
        # 300 open files: the default 1000 is lowered to what fits; 400
        # connections would have stopped gRPC's listener for good.
        server = ServerProcess(os.path.join(self.dir, "data"),
                               ["--metrics_listen=127.0.0.1:0"],
                               preexec_fn=open_file_limit(300))
        try:
            # The note is the first line on stderr; read it after stopping.
            limit = None
            self.socks = flood(server.target, 400)
            limit = [closed_by_server(s) for s in self.socks].count(False)
            for s in self.socks:
                s.close()
            self.socks = []
            time.sleep(1)
            self.assertGreater(limit, 0)
            self.assert_refused_then_served(server, limit, 400)
        finally:
            server.channel.close()
            server.proc.send_signal(signal.SIGTERM)
            _, err = server.proc.communicate(timeout=20)
        self.assertIn("note: at most %d connections at once: the open-file "
                      "limit is 300 (raise it for --max_connections=1000)\n"
                      % limit, err)

    def test_idle_and_silent_connections_give_their_slots_back(self):
        # A connection without calls (--max_connection_idle_ms) and one that
        # never completes its handshake (--handshake_timeout_ms) are closed,
        # so holding every slot takes more than opening connections once.
        server = ServerProcess(os.path.join(self.dir, "data"),
                               ["--max_connections=10",
                                "--max_connection_idle_ms=1000",
                                "--handshake_timeout_ms=1000"])
        try:
            host, port = server.target.rsplit(":", 1)
            idle = flood(server.target, 5)
            silent = [socket.create_connection((host, int(port)), timeout=5)
                      for _ in range(5)]
            self.socks = idle + silent
            start = time.monotonic()
            for s in self.socks:
                s.settimeout(10)
                try:
                    while s.recv(65536):
                        pass
                except ConnectionResetError:
                    pass
            # flood() waited 2 s for the first five: all closed by then.
            self.assertLess(time.monotonic() - start, 5)
            info = server.client.call("GetServiceInfo", "{}")
            self.assertEqual(info.version, "0.1.0")
        finally:
            server.stop()

    def test_refused(self):
        for extra, limit, want in (
                (["--max_connections=0"], None,
                 "ERROR --max_connections: expected 1 to 1000000, found 0\n"),
                (["--max_connections=2000"], 300,
                 "expected at most "),
                (["--max_connection_idle_ms=-1"], None,
                 "ERROR --max_connection_idle_ms: expected 0 or more "
                 "milliseconds, found -1\n"),
                (["--keepalive_time_ms=-5"], None,
                 "ERROR --keepalive_time_ms: expected 0 or more milliseconds, "
                 "found -5\n")):
            proc = subprocess.run(
                [SERVER, "--data_dir=" + os.path.join(self.dir, "data"),
                 "--listen=127.0.0.1:0"] + extra,
                capture_output=True, text=True, timeout=60,
                preexec_fn=open_file_limit(limit) if limit else None)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertIn(want, proc.stderr)
            self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)


class UnixSocketTest(unittest.TestCase):
    """--listen=unix:PATH: a load balancer on the same host connects over a
    Unix socket. It counts as local (no access policy needed, as for
    loopback); an abstract socket does not."""

    def start(self, listen, data_dir, *flags):
        return subprocess.Popen(
            [SERVER, "--data_dir=" + data_dir, "--listen=" + listen,
             "--access_log=false"] + list(flags),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def test_unix_socket(self):
        data = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        # $TEST_TMPDIR is too long for a socket path (107 bytes).
        d = tempfile.mkdtemp(prefix="rm-", dir="/tmp")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", d]))
        path = os.path.join(d, "rm.sock")
        for attempt in ("first", "after a kill"):
            proc = self.start("unix:" + path, os.path.join(data, "data"))
            try:
                line = proc.stdout.readline()
                self.assertEqual(line, "listening on unix:%s (plaintext)\n" %
                                 path, (attempt, proc.stderr.read()
                                        if not line else ""))
                # Only the server's user may connect by default.
                self.assertEqual(stat.S_IMODE(os.lstat(path).st_mode), 0o600)
                with grpc.insecure_channel("unix:" + path) as channel:
                    info = rm_client.Client(channel, DESCRIPTORS).call(
                        "GetServiceInfo", "{}")
                    self.assertTrue(info.version, attempt)
            finally:
                # The second start finds the socket file of a server that
                # could not remove it.
                proc.kill()
                proc.communicate(timeout=20)
        self.assertTrue(os.path.exists(path))

    def test_socket_mode_and_group(self):
        data = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        d = tempfile.mkdtemp(prefix="rm-", dir="/tmp")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", d]))
        path = os.path.join(d, "rm.sock")
        # gRPC's unix:///ABSOLUTE spelling names the same file.
        proc = self.start("unix://" + path, os.path.join(data, "data"),
                          "--unix_socket_mode=0660",
                          "--unix_socket_group=%d" % os.getegid())
        try:
            line = proc.stdout.readline()
            self.assertTrue(line.startswith("listening on unix://"),
                            line or proc.stderr.read())
            st = os.lstat(path)
            self.assertTrue(stat.S_ISSOCK(st.st_mode))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
            self.assertEqual(st.st_gid, os.getegid())
            with grpc.insecure_channel("unix:" + path) as channel:
                info = rm_client.Client(channel, DESCRIPTORS).call(
                    "GetServiceInfo", "{}")
                self.assertTrue(info.version)
        finally:
            proc.kill()
            proc.communicate(timeout=20)

    def test_socket_flags_refused(self):
        d = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        for listen, flag, expected in (
                ("unix:/tmp/x.sock", "--unix_socket_mode=0888",
                 "ERROR --unix_socket_mode: expected permission bits in "
                 "octal from 0 to 0777 (e.g. 0660), found '0888'\n"),
                ("unix:/tmp/x.sock", "--unix_socket_group=no-such-group-rm",
                 "ERROR --unix_socket_group: expected a group name or "
                 "number, found 'no-such-group-rm' (no such group)\n"),
                ("127.0.0.1:0", "--unix_socket_mode=0660",
                 "ERROR --unix_socket_mode: expected with "
                 "--listen=unix:PATH, found --listen=127.0.0.1:0\n")):
            proc = self.start(listen, os.path.join(d, "data"), flag)
            out, err = proc.communicate(timeout=20)
            self.assertEqual(proc.returncode, 1, flag)
            self.assertEqual(err, expected)
            self.assertFalse(os.path.exists("/tmp/x.sock"))

    def test_a_path_too_long_for_a_socket_is_refused(self):
        d = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        proc = self.start("unix:/" + "x" * 107, os.path.join(d, "data"))
        out, err = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(err, "ERROR --listen=unix:PATH: expected a path of 1 "
                         "to 107 bytes (unix(7)), found 108\n")

    def test_abstract_socket_needs_a_policy(self):
        d = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        proc = self.start("unix-abstract:rm-test-%d" % os.getpid(),
                          os.path.join(d, "data"))
        out, err = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("is not a loopback address: give --access_policy", err)


if __name__ == "__main__":
    unittest.main()
