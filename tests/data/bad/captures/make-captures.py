#!/usr/bin/env python3
"""Regenerates the bad capture files of this folder (run from anywhere: python3 make-captures.py).
Each is a small hand-built pcap/pcapng; the packet, when there is one, is an Ethernet/IPv4/UDP DNS
query for www.tiktok.com from 10.1.0.5 (group gov in scan.toml)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def dns_query_frame():
    qname = b"".join(bytes([len(p)]) + p for p in b"www.tiktok.com".split(b".")) + b"\0"
    dns = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)
    udp = struct.pack("!HHHH", 40000, 53, 8 + len(dns), 0) + dns
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     bytes([10, 1, 0, 5]), bytes([10, 8, 0, 1]))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + udp


def pcap_header(linktype=1, magic=0xA1B2C3D4, snaplen=65535):
    return struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(frame, caplen=None, length=None):
    caplen = len(frame) if caplen is None else caplen
    length = len(frame) if length is None else length
    return struct.pack("<IIII", 1764400000, 0, caplen, length) + frame


def pcapng_block(block_type, body):
    body += b"\0" * (-len(body) % 4)
    total = 12 + len(body)
    return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


frame = dns_query_frame()
good = pcap_header() + pcap_record(frame)
write("zero-length.pcap", b"")
write("truncated-header.pcap", good[:10])
write("truncated-record.pcap", good + pcap_record(frame)[:30])
write("wrong-magic.pcap", struct.pack("<I", 0xDEADBEEF) + good[4:])
write("huge-caplen.pcap", good + pcap_record(frame, caplen=0x7FFFFFFF, length=0x7FFFFFFF))
write("unsupported-link.pcap", pcap_header(linktype=105) + pcap_record(frame))
write("text-file.pcap", b"this is not a capture, it is a text file\n")
shb = pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
idb = pcapng_block(0x00000001, struct.pack("<HHI", 1, 0, 65535))
epb = pcapng_block(0x00000006, struct.pack("<IIIII", 0, 0, 0, len(frame), len(frame)) + frame)
unknown = pcapng_block(0x0BADBEEF, b"vendor block that readers must skip")
write("pcapng-unknown-block.pcapng", shb + idb + unknown + epb)
write("pcapng-truncated-block.pcapng", shb + idb + epb[:40])
write("pcapng-bad-block-length.pcapng",
      shb + idb + struct.pack("<II", 6, 7) + b"\0" * 16)
