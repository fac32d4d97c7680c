#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets added for issue 7: dns_proxy, reassembler,
pcap_file (tests/fuzz/corpus/<name>/). Run from anywhere: python3 tests/fuzz/make_seeds.py."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def qname(name):
    return b"".join(bytes([len(p)]) + p for p in name.encode().split(b".") if p) + b"\0"


def query(name, qtype=1, qid=0x1234, edns=False):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0)
    q += qname(name) + struct.pack("!HH", qtype, 1)
    if edns:
        q += b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
    return q


def rr(owner, rtype, rdata, ttl=300):
    return owner + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def response(name, answers, qtype=1, qid=0x1234, rcode=0):
    r = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, len(answers), 0, 0)
    r += qname(name) + struct.pack("!HH", qtype, 1)
    return r + b"".join(answers)


def proxy_seed(knobs, q, r=b""):
    return bytes([knobs]) + struct.pack("!H", len(q)) + q + r


# ---- dns_proxy: knobs bits 0-1 client (gov, watch, byod, v6), 2-3 block answer, 5 tcp
ptr = b"\xc0\x0c"  # the question's name
put("dns_proxy", "blocked-gov", proxy_seed(0, query("www.tiktok.com")))
put("dns_proxy", "blocked-null-edns", proxy_seed(4, query("www.tiktok.com", 28, edns=True)))
put("dns_proxy", "monitor-watch", proxy_seed(1, query("www.tiktok.com")))
put("dns_proxy", "anti-bypass", proxy_seed(0, query("use-application-dns.net")))
put("dns_proxy", "forward-a", proxy_seed(2, query("example.com"),
                                         response("example.com", [rr(ptr, 1, bytes([93, 184, 216, 34]))])))
put("dns_proxy", "forward-cname-blocked", proxy_seed(0, query("cdn.example.com"), response(
    "cdn.example.com", [rr(ptr, 5, qname("v16.tiktokv.com")),
                        rr(qname("v16.tiktokv.com"), 1, bytes([1, 2, 3, 4]))])))
put("dns_proxy", "forward-address-hook", proxy_seed(0, query("example.org"),
                                                    response("example.org", [rr(ptr, 1, bytes([6, 6, 6, 6]))])))
svc = struct.pack("!H", 1) + b"\0" + struct.pack("!HH", 1, 3) + b"\x02h2" + \
    struct.pack("!HH", 5, 4) + b"ECH!"
put("dns_proxy", "forward-https-ech", proxy_seed(0, query("example.net", 65, edns=True),
                                                 response("example.net", [rr(ptr, 65, svc)], qtype=65)))
big = response("example.com", [rr(ptr, 16, b"\xff" + b"t" * 255) for _ in range(3)], qtype=16)
put("dns_proxy", "forward-too-big-udp", proxy_seed(2, query("example.com", 16), big))
put("dns_proxy", "forward-tcp", proxy_seed(0x22, query("example.com", 16), big))
put("dns_proxy", "forward-mismatch", proxy_seed(2, query("example.com"),
                                                response("example.org", [], qid=0x9999)))
put("dns_proxy", "forward-truncated-tc", proxy_seed(2, query("example.com"),
                                                    response("example.com", [], rcode=0)[:2] + b"\x83\x80" +
                                                    response("example.com", [])[4:]))
put("dns_proxy", "malformed-query", proxy_seed(0, query("example.com")[:15]))

# ---- reassembler: op = (buffer << 4) | code; 0 acquire, 1 release, 2 write (u8 offset+16,
# u8 length, bytes), 4 consume (u8), 5 message length, 6 CRYPTO chunks
def w(buf, offset, data):
    return bytes([(buf << 4) | 2, offset + 16, len(data)]) + data


hello = b"\x01\x00\x00\x28" + bytes(range(0x28))
put("reassembler", "in-order", bytes([0x00]) + w(0, 0, hello[:20]) + w(0, 20, hello[20:]) +
    bytes([0x05, 0x04, 10, 0x05]))
put("reassembler", "out-of-order", bytes([0x00]) + w(0, 30, b"B" * 10) + w(0, 10, b"A" * 5) +
    w(0, 0, b"0" * 12) + w(0, 12, b"x" * 30) + bytes([0x05, 0x04, 40]))
put("reassembler", "conflict", bytes([0x00]) + w(0, 0, b"first") + w(0, 0, b"other") +
    w(0, 3, b"overlap") + w(0, -16, b"before-the-window-start-and-into-it"))
put("reassembler", "holes", bytes([0x00]) + b"".join(w(0, 6 * i + 3, b"h") for i in range(10)))
put("reassembler", "pool-bound", bytes([0x00, 0x10, 0x20]) + w(2, 0, b"no buffer") +
    bytes([0x01, 0x20]) + w(2, 0, b"now") + bytes([0x11, 0x21]))
put("reassembler", "truncated", bytes([0x00]) + w(0, 10, b"z" * 79) + bytes([0x05]))
chlo = b"CHLO" + struct.pack("<HH", 1, 0) + b"SNI\0" + struct.pack("<I", 8) + b"tiktok.c"
chunks = bytes([0x06, 3]) + struct.pack("!H", 10) + bytes([len(chlo) - 10]) + chlo[10:] + \
    struct.pack("!H", 0) + bytes([10]) + chlo[:10] + struct.pack("!H", 200) + b"\x04late"
put("reassembler", "crypto-chunks", bytes([0x00]) + chunks + bytes([0x00]) + w(0, 0, chlo) +
    bytes([0x05]))

# ---- pcap_file: captures (the bad ones are in tests/data/bad/captures/)
def pcap(linktype, frames, magic=0xA1B2C3D4):
    out = struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    for i, f in enumerate(frames):
        out += struct.pack("<IIII", 1764400000 + i, 0, len(f), len(f)) + f
    return out


udp = struct.pack("!HHHH", 40000, 53, 8 + len(query("www.tiktok.com")), 0) + query("www.tiktok.com")
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                 bytes([10, 1, 0, 5]), bytes([10, 8, 0, 1])) + udp
eth = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip
put("pcap_file", "ethernet.pcap", pcap(1, [eth, eth[:40]]))
put("pcap_file", "raw-ip.pcap", pcap(101, [ip]))
put("pcap_file", "nanosecond.pcap", pcap(1, [eth], magic=0xA1B23C4D))
put("pcap_file", "big-endian.pcap",
    struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) +
    struct.pack(">IIII", 1, 0, len(eth), len(eth)) + eth)


def block(t, body):
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", t, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
idb = block(1, struct.pack("<HHI", 1, 0, 65535))
epb = block(6, struct.pack("<IIIII", 0, 0, 0, len(eth), len(eth)) + eth)
spb = block(3, struct.pack("<I", len(eth)) + eth)
put("pcap_file", "pcapng.pcapng", shb + idb + epb + spb + block(0x0BADBEEF, b"vendor"))
put("pcap_file", "pcapng-two-sections.pcapng", shb + idb + epb + shb + block(1, struct.pack("<HHI", 113, 0, 0)) + epb)
