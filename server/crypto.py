"""Field encryption for personal identifiers at rest (AES-GCM) and keyed digests for lookups."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


@lru_cache(maxsize=4)
def key_bytes(data_key_b64: str) -> bytes:
    key = base64.b64decode(data_key_b64)
    if len(key) != 32:
        raise ValueError("DATA_KEY must be 32 bytes, base64-encoded")
    return key


def encrypt_field(plaintext: str, data_key_b64: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(key_bytes(data_key_b64)).encrypt(nonce, plaintext.encode(), b"zhanye-field")
    return base64.b64encode(nonce + sealed).decode()


def decrypt_field(token: str, data_key_b64: str) -> str:
    raw = base64.b64decode(token)
    return AESGCM(key_bytes(data_key_b64)).decrypt(raw[:12], raw[12:], b"zhanye-field").decode()


def field_digest(value: str, data_key_b64: str) -> str:
    return hmac.new(key_bytes(data_key_b64), value.encode(), hashlib.sha256).hexdigest()
