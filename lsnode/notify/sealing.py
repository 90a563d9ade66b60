"""Channel passwords at rest: sealed to the hub's key, so only the hub can open them.

A channel row is replicated: a password typed on any node travels to the hub and to every other
node. ``SecretBox`` (``lsnode.sync.keys``) cannot serve here — its key is bound to one machine,
so what a tablet seals the hub could not open. Instead a password is sealed to the public key of
the hub's certificate (ECIES: an ephemeral P-256 key, ECDH, HKDF-SHA256, AES-256-GCM, with the
channel id bound as associated data). Any node can seal; only the hub, whose private key is kept
sealed by ``SecretBox`` under ``DATA/keys``, can open. A node learns the hub's certificate from
the replicated setting ``hub_certificate`` and trusts it only if its SHA-256 is the fingerprint
pinned at pairing.

The stored text is ``hub1:`` + base64 of ``ephemeral public key (65) | nonce (12) | ciphertext``.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lsnode.errors import InputError, NotFound
from lsnode.sync.keys import HUB_CERT_FILE, KEYS_DIR, SecretError, fingerprint_of

PREFIX: Final = "hub1:"
_INFO: Final = b"lsavto notify channel secret v1"
_POINT_LEN: Final = 65
_NONCE_LEN: Final = 12
MAX_SECRET: Final = 1024


def _key(shared: bytes, eph: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=eph, info=_INFO).derive(shared)


def seal_for_hub(cert_pem: bytes, secret: str, channel_id: str) -> str:
    """``secret`` sealed to the hub certificate's public key, bound to ``channel_id``."""
    if len(secret) > MAX_SECRET:
        raise InputError(f"a password is at most {MAX_SECRET} characters")
    public = x509.load_pem_x509_certificate(cert_pem).public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise InputError("the hub's certificate has no elliptic-curve key")
    eph = ec.generate_private_key(public.curve)
    eph_pub = eph.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    nonce = os.urandom(_NONCE_LEN)
    body = AESGCM(_key(eph.exchange(ec.ECDH(), public), eph_pub)).encrypt(
        nonce, secret.encode("utf-8"), channel_id.encode("utf-8")
    )
    return PREFIX + base64.b64encode(eph_pub + nonce + body).decode("ascii")


def open_on_hub(key_pem: bytes, sealed: str, channel_id: str) -> str:
    """The password sealed by :func:`seal_for_hub`; ``SecretError`` if it is not ours."""
    if not sealed.startswith(PREFIX):
        raise SecretError("a channel secret in an unknown format")
    try:
        raw = base64.b64decode(sealed[len(PREFIX) :], validate=True)
        private = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(private, ec.EllipticCurvePrivateKey):
            raise SecretError("the hub key is not an elliptic-curve key")
        eph_pub, nonce, body = (
            raw[:_POINT_LEN],
            raw[_POINT_LEN : _POINT_LEN + _NONCE_LEN],
            raw[_POINT_LEN + _NONCE_LEN :],
        )
        peer = ec.EllipticCurvePublicKey.from_encoded_point(private.curve, eph_pub)
        plain = AESGCM(_key(private.exchange(ec.ECDH(), peer), eph_pub)).decrypt(
            nonce, body, channel_id.encode("utf-8")
        )
    except SecretError:
        raise
    except Exception:  # bad base64, a bad point, a wrong key or tag: all mean the same here
        raise SecretError(
            "the channel's password cannot be opened: it was sealed for another hub (enter it "
            "again)"
        ) from None
    return plain.decode("utf-8")


def hub_certificate(data_dir: Path, published_pem: str | None) -> bytes:
    """The hub certificate a password typed here is sealed to.

    On the hub's own data dir: its certificate file. On a paired node: the certificate the hub
    published (setting ``hub_certificate``), accepted only if it is the one pinned at pairing.
    """
    own = Path(data_dir) / KEYS_DIR / HUB_CERT_FILE
    if own.is_file():
        return own.read_bytes()
    if not published_pem:
        raise NotFound(
            "the hub's certificate is not known here yet: sync with the hub once, then set the "
            "password again"
        )
    from lsnode.sync.pairing import NodeIdentity

    identity = NodeIdentity.load(Path(data_dir))
    pem = published_pem.encode("ascii")
    if identity is None or fingerprint_of(pem) != identity.hub_fingerprint:
        raise SecretError(
            "the hub certificate published in the settings is not the one pinned at pairing: "
            "not sealing a password to it"
        )
    return pem
