#!/usr/bin/env python3
"""Sends a TLS ClientHello for NAME to ADDR:443 cut into SEG-byte TCP segments (TCP_NODELAY, a
short pause between segments so each leaves as its own packet). Exit 0 when the server answers
with a TLS handshake record (ServerHello), 1 when the connection is reset, closed or silent.
Usage: split_client_hello.py NAME ADDR [SEG]"""
import socket
import ssl
import sys
import time

name, addr = sys.argv[1], sys.argv[2]
seg = int(sys.argv[3]) if len(sys.argv) > 3 else 7
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(incoming, outgoing, server_hostname=name)
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = outgoing.read()
try:
    s = socket.create_connection((addr, 443), timeout=3)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(0, len(hello), seg):
        s.send(hello[i:i + seg])
        time.sleep(0.003)
    data = s.recv(5)
except OSError as e:
    print(f"blocked: {type(e).__name__} after a {len(hello)}-byte ClientHello in {seg}-byte segments")
    sys.exit(1)
if data[:1] == b"\x16":
    print(f"server hello ({len(hello)}-byte ClientHello in {seg}-byte segments)")
    sys.exit(0)
print("closed without a ServerHello")
sys.exit(1)
