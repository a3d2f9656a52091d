"""The peer's side of MS-CHAPv2 (RFC 2759) over RADIUS (RFC 2548), as a router relays a PPPoE client's
login: the NT-Response FreeRADIUS's mschap module checks, and the authenticator response it must
send back in MS-CHAP2-Success. Python's hashlib has no MD4 on OpenSSL 3 and no library here offers
it, so RFC 1320's MD4 is written out below; DES is the cryptography package's (TripleDES with one
key three times is DES)."""
import hashlib
import os
import struct

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from pyrad import packet

MAGIC1 = b"Magic server to client signing constant"
MAGIC2 = b"Pad to make it do more than one iteration"


def md4(data: bytes) -> bytes:
    """RFC 1320."""
    def rotl(x, n):
        return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF

    message = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack("<Q", len(data) * 8)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for offset in range(0, len(message), 64):
        x = struct.unpack("<16I", message[offset:offset + 64])
        aa, bb, cc, dd = a, b, c, d
        for i in range(16):  # round 1
            f = (b & c) | (~b & d)
            a, b, c, d = d, rotl((a + f + x[i]) & 0xFFFFFFFF, (3, 7, 11, 19)[i % 4]), b, c
        for i in range(16):  # round 2
            k = (i % 4) * 4 + i // 4
            g = (b & c) | (b & d) | (c & d)
            a, b, c, d = d, rotl((a + g + x[k] + 0x5A827999) & 0xFFFFFFFF, (3, 5, 9, 13)[i % 4]), b, c
        for i in range(16):  # round 3
            k = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)[i]
            h = b ^ c ^ d
            a, b, c, d = d, rotl((a + h + x[k] + 0x6ED9EBA1) & 0xFFFFFFFF, (3, 9, 11, 15)[i % 4]), b, c
        a, b, c, d = (a + aa) & 0xFFFFFFFF, (b + bb) & 0xFFFFFFFF, (c + cc) & 0xFFFFFFFF, (d + dd) & 0xFFFFFFFF
    return struct.pack("<4I", a, b, c, d)


def _des_key(seven: bytes) -> bytes:
    bits = int.from_bytes(seven, "big")
    return bytes(((bits >> (49 - 7 * i)) & 0x7F) << 1 for i in range(8))  # parity bits left 0: DES ignores them


def _des(key7: bytes, block: bytes) -> bytes:
    key = _des_key(key7)
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def nt_password_hash(password: str) -> bytes:
    return md4(password.encode("utf-16-le"))


def _challenge_hash(peer: bytes, authenticator: bytes, username: str) -> bytes:
    return hashlib.sha1(peer + authenticator + username.encode()).digest()[:8]


def nt_response(authenticator: bytes, peer: bytes, username: str, password: str) -> bytes:
    challenge = _challenge_hash(peer, authenticator, username)
    hashed = nt_password_hash(password) + b"\x00" * 5
    return b"".join(_des(hashed[i:i + 7], challenge) for i in (0, 7, 14))


def authenticator_response(authenticator: bytes, peer: bytes, username: str, password: str,
                           response: bytes) -> str:
    digest = hashlib.sha1(md4(nt_password_hash(password)) + response + MAGIC1).digest()
    digest = hashlib.sha1(digest + _challenge_hash(peer, authenticator, username) + MAGIC2).digest()
    return "S=" + digest.hex().upper()


def authenticate(radius, username: str, password: str, ident: int = 7):
    """Access-Request with MS-CHAP-Challenge and MS-CHAP2-Response, as a RouterOS PPPoE server sends
    it; returns (reply, the MS-CHAP2-Success an honest server sends for ``password``)."""
    client = radius.client()
    authenticator, peer = os.urandom(16), os.urandom(16)
    response = nt_response(authenticator, peer, username, password)
    request = client.CreateAuthPacket(code=packet.AccessRequest, User_Name=username)
    request["NAS-IP-Address"] = "127.0.0.1"
    request["Service-Type"] = "Framed-User"
    request["Framed-Protocol"] = "PPP"
    request["MS-CHAP-Challenge"] = authenticator
    request["MS-CHAP2-Response"] = bytes([ident, 0]) + peer + b"\x00" * 8 + response
    expected = bytes([ident]) + authenticator_response(authenticator, peer, username, password, response).encode()
    return client.SendPacket(request), expected
