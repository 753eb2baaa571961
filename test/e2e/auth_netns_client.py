"""A scripted IMAP client for test/e2e/auth-netns.test.ts, run inside a network namespace (ip netns exec).

argv[1] is JSON: {"host", "port", "tls": bool, "steps": [...]}. A step is {"send": "<bytes>", "tag": "<tag>"}
(the bytes are sent as is, CRLFs included, and lines are read until the tagged response, a BYE or the end of the
connection) or {"starttls": true} (negotiate TLS on the open connection). Prints JSON:
{"greeting", "results": [{"lines", "ms"}], "closed"}. Certificates are not verified (the gateway's is self-signed).
"""
import json
import socket
import ssl
import sys
import time

spec = json.loads(sys.argv[1])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ssl.TLSVersion.TLSv1_2

sock = socket.create_connection((spec["host"], spec["port"]), timeout=20)
if spec.get("tls"):
    sock = ctx.wrap_socket(sock)
buf = b""
closed = False


def line():
    global buf, closed
    while b"\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            closed = True
            return None
        buf += data
    head, _, buf = buf.partition(b"\r\n")
    return head.decode("latin-1")


out = {"greeting": line(), "results": [], "closed": False}
for step in spec["steps"]:
    if step.get("starttls"):
        buf = b""  # nothing may follow the tagged OK of STARTTLS in cleartext
        sock = ctx.wrap_socket(sock)
        continue
    t0 = time.monotonic()
    sock.sendall(step["send"].encode("latin-1"))
    lines = []
    while True:
        got = line()
        if got is None:
            break
        lines.append(got)
        if got.startswith(step["tag"] + " "):
            break
        if got.startswith("* BYE"):
            while line() is not None:  # the server should now close: read to the end
                pass
            break
    out["results"].append({"lines": lines, "ms": round((time.monotonic() - t0) * 1000)})
    if closed:
        break
out["closed"] = closed
print(json.dumps(out))
