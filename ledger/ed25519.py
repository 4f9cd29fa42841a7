"""Ed25519 signature verification in pure Python (RFC 8032 section 6, verification only).

Standard library only: this module is copied into the offline bundle verifier, which must check
checkpoint signatures on a bare Python install. The server signs and verifies with `cryptography`;
tests hold this module to RFC 8032's test vectors and to `cryptography`'s signatures.

The arithmetic is the RFC's reference code (extended coordinates, x = X/Z, y = Y/Z, x·y = T/Z).
It is not constant-time, which verification of public data does not need.
"""

from __future__ import annotations

import hashlib

_P = 2**255 - 19  # the base field
_Q = 2**252 + 27742317777372353535851937790883648493  # the group order (RFC 8032's L)


def _inverse(x: int) -> int:
    return pow(x, _P - 2, _P)


_D = -121665 * _inverse(121666) % _P  # the curve constant
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)  # a square root of -1

Point = tuple[int, int, int, int]
_NEUTRAL: Point = (0, 1, 1, 0)


def _add(p: Point, q: Point) -> Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _multiply(scalar: int, point: Point) -> Point:
    result = _NEUTRAL
    while scalar > 0:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _equal(p: Point, q: Point) -> bool:
    # x1/z1 == x2/z2 and y1/z1 == y2/z2, without inversions
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _recover_x(y: int, sign: int) -> int | None:
    """The x coordinate for y whose low bit is `sign`, or None if there is none."""
    if y >= _P:
        return None
    x2 = (y * y - 1) * _inverse(_D * y * y + 1)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _decompress(encoded: bytes) -> Point | None:
    y = int.from_bytes(encoded, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_BASE_Y = 4 * _inverse(5) % _P
_BASE_X = _recover_x(_BASE_Y, 0)
if _BASE_X is None:  # raised, not asserted: `python -O` must not skip it
    raise ArithmeticError("Ed25519's base point has no x coordinate: this module's arithmetic is wrong")
_BASE: Point = (_BASE_X, _BASE_Y, 1, _BASE_X * _BASE_Y % _P)


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether `signature` is `public_key`'s Ed25519 signature of `message` ([S]B = R + [k]A)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _decompress(public_key)
    if a is None:
        return False
    r = _decompress(signature[:32])
    if r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _Q:  # a non-canonical S would make signatures malleable
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % _Q
    return _equal(_multiply(s, _BASE), _add(r, _multiply(k, a)))
