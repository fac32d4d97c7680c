#!/usr/bin/env python3
"""Independent reference for QUIC Initial protection (RFC 9001 section 5, RFC 9369 section 3.3).

Used to verify the RFC vectors stored beside this file and to regenerate the synthetic fixtures
and fuzz seeds (python3 quic_ref.py verify | python3 quic_ref.py seeds OUTDIR).
Needs python3-cryptography (Debian package).
"""
import hashlib
import hmac
import os
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SALT_V1 = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")
SALT_V2 = bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9")
SALT_D29 = bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899")
SALT_D23 = bytes.fromhex("c3eef712c72ebb5a11a7d2432bb46365bef9f502")


def expand_label(secret, label, length):
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + b"\x00"
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(secret, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def client_keys(dcid, salt=SALT_V1, v2=False):
    initial = hmac.new(salt, dcid, hashlib.sha256).digest()
    secret = expand_label(initial, b"client in", 32)
    p = b"quicv2 " if v2 else b"quic "
    return (expand_label(secret, p + b"key", 16), expand_label(secret, p + b"iv", 12),
            expand_label(secret, p + b"hp", 16))


def protect(header, pn_len, pn, payload, keys):
    """header: unprotected header ending with the packet number (pn_len bytes)."""
    key, iv, hp = keys
    nonce = bytearray(iv)
    for i in range(8):
        nonce[11 - i] ^= (pn >> (8 * i)) & 0xFF
    ct = AESGCM(key).encrypt(bytes(nonce), payload, header)
    pn_offset = len(header) - pn_len
    sample = ct[4 - pn_len:4 - pn_len + 16]
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    mask = enc.update(sample) + enc.finalize()
    out = bytearray(header + ct)
    out[0] ^= mask[0] & (0x0F if out[0] & 0x80 else 0x1F)
    for i in range(pn_len):
        out[pn_offset + i] ^= mask[1 + i]
    return bytes(out)


def varint(v):
    if v < 64:
        return bytes([v])
    if v < 16384:
        return (v | 0x4000).to_bytes(2, "big")
    return (v | 0x80000000).to_bytes(4, "big")


def initial(version, dcid, scid, payload, pn=0, pn_len=1, token=b"", salt=SALT_V1, v2=False):
    type_bits = 0x10 if v2 else 0x00
    first = 0xC0 | type_bits | (pn_len - 1)
    length = pn_len + len(payload) + 16
    header = (bytes([first]) + version.to_bytes(4, "big") + bytes([len(dcid)]) + dcid +
              bytes([len(scid)]) + scid + varint(len(token)) + token + varint(length) +
              pn.to_bytes(pn_len, "big"))
    return protect(header, pn_len, pn, payload, client_keys(dcid, salt, v2))


def unprotect(packet, pn_offset, keys):
    key, iv, hp = keys
    sample = packet[pn_offset + 4:pn_offset + 20]
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    mask = enc.update(sample) + enc.finalize()
    first = packet[0] ^ (mask[0] & 0x0F)
    pn_len = (first & 3) + 1
    pn_bytes = bytes(b ^ m for b, m in zip(packet[pn_offset:pn_offset + pn_len], mask[1:]))
    pn = int.from_bytes(pn_bytes, "big")
    header = bytes([first]) + packet[1:pn_offset] + pn_bytes
    nonce = bytearray(iv)
    for i in range(8):
        nonce[11 - i] ^= (pn >> (8 * i)) & 0xFF
    return AESGCM(key).decrypt(bytes(nonce), packet[pn_offset + pn_len:], header)


def verify():
    here = os.path.dirname(os.path.abspath(__file__))
    dcid = bytes.fromhex("8394c8f03e515708")
    for name, salt, v2 in (("rfc9001_a2_client_initial.hex", SALT_V1, False),
                           ("rfc9369_a2_client_initial.hex", SALT_V2, True)):
        with open(os.path.join(here, name)) as f:
            pkt = bytes.fromhex(f.read().replace("\n", ""))
        plain = unprotect(pkt, 18, client_keys(dcid, salt, v2))
        assert plain.startswith(bytes.fromhex("060040f1010000ed0303ebf8fa56")), name
        print(name, "ok", len(pkt), "bytes, plaintext", len(plain))


def seeds(outdir):
    os.makedirs(outdir, exist_ok=True)
    dcid = bytes.fromhex("8394c8f03e515708")
    ch = bytes.fromhex("010000100303") + bytes(10)
    crypto = b"\x06\x00" + varint(len(ch)) + ch
    cases = {
        "v1_min": initial(1, dcid, b"", crypto + bytes(30)),
        "v2_min": initial(0x6B3343CF, dcid, b"\x01", crypto + bytes(30), salt=SALT_V2, v2=True),
        "d29_ack_ping": initial(0xFF00001D, dcid, b"", b"\x01\x02\x00\x00\x00\x00" + crypto +
                                bytes(20), salt=SALT_D29, pn_len=2, pn=7),
        "v1_two_initials": initial(1, dcid, b"", crypto + bytes(20)) +
                           initial(1, dcid, b"", b"\x06\x10\x05hello" + bytes(20), pn=1),
        "version_negotiation": bytes.fromhex("c0000000000401020304000000000100000001"),
        "short_header": bytes.fromhex("4001020304050607"),
    }
    for name, data in cases.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "seeds":
        seeds(sys.argv[2])
    else:
        verify()
