"""Secrets at rest, masking secrets in logs, and the hub's TLS certificate.

Secrets (the hub's private key, a node's credential, later SIP and SMTP passwords) are sealed with
AES-256-GCM by a :class:`SecretBox` and kept under ``DATA/keys/NAME.sealed`` (0600, dir 0700).

Where the master key comes from, and the trade-off
--------------------------------------------------
The key is never stored. :meth:`SecretBox.for_data_dir` derives it with HKDF-SHA256 from

* a random 32-byte salt, ``DATA/keys/salt``, made on first use;
* the machine's identity: ``/etc/machine-id``, else ``/var/lib/dbus/machine-id``, else the host
  name;
* ``$LSAVTO_MASTER_SECRET``, an operator passphrase, when it is set (and not empty).

So a data dir copied elsewhere (a backup, a stolen disk image, a tablet's SD card) does not open on
another machine, and nothing on disk alone is the key. What this does *not* protect against: anyone
who can read the data dir *on this machine* (same user or root) can derive the key too — unless the
passphrase is set and kept off the disk, which then has to be supplied at every start. The price
of binding to the machine: a reinstalled OS, a cloned VM with a fresh machine-id, or a data dir
restored onto new hardware cannot open its secrets. Passwords must then be entered again, and a
hub gets a new certificate, so every node has to pair again — on purpose, since a hub identity that
moves with a copied directory is exactly what pinning is meant to catch. The host-name fallback is
weak (guessable); it only exists for systems without a machine-id.

Errors (all under :class:`lsnode.errors.LsnodeError`)::

    SecretError   a sealed value cannot be opened: tampered, or sealed under another master key
    TrustError    the peer's certificate is not the one pinned at pairing (or there is none)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
import os
import re
import secrets
import socket
import ssl
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lsnode.errors import DataDirError, InputError, LsnodeError

KEYS_DIR: Final = "keys"
SALT_FILE: Final = "salt"
HUB_CERT_FILE: Final = "hub.crt"
HUB_KEY_SECRET: Final = "hub_key"
MASTER_SECRET_ENV: Final = "LSAVTO_MASTER_SECRET"
MACHINE_ID_FILES: Final = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
HUB_DNS_NAME: Final = "lsavto-hub.local"
CERT_VALID_DAYS: Final = 3650

FORMAT_VERSION: Final = 1
NONCE_LEN: Final = 12
TAG_LEN: Final = 16
KEY_LEN: Final = 32
SALT_LEN: Final = 32
_HKDF_INFO: Final = b"lsavto-node master key v1"
_NAME_RE: Final = re.compile(r"[a-z0-9_-]{1,64}")
_FINGERPRINT_RE: Final = re.compile(r"[0-9a-f]{64}")


class SecretError(LsnodeError):
    """A sealed value cannot be opened: it was altered, or sealed under another master key."""


class TrustError(LsnodeError):
    """The peer is not who pairing said it is: its certificate does not match the pin."""


# --- files ----------------------------------------------------------------------------------


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so a reader sees the old or the new file, never half of one.

    The temporary file is created with ``mode`` (0600 by default) in the same directory, synced,
    renamed over ``path``, and the directory is synced so the rename survives a power cut.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            if mode != 0o600:  # mkstemp made it 0600
                os.chmod(tmp, mode)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open a directory; the rename is already done
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def keys_dir(data_dir: Path) -> Path:
    """``DATA/keys``, created 0700 if missing; the data dir itself must exist."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataDirError(f"data dir {data_dir} does not exist")
    path = data_dir / KEYS_DIR
    if not path.is_dir():
        path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
    return path


def _salt(directory: Path) -> bytes:
    path = directory / SALT_FILE
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".salt.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(SALT_LEN))
                out.flush()
                os.fsync(out.fileno())
            # link() never replaces: if another process made a salt meanwhile, theirs wins.
            os.link(tmp, path)
            fsync_dir(directory)
        except FileExistsError:
            pass
        finally:
            Path(tmp).unlink(missing_ok=True)
    salt = path.read_bytes()
    if len(salt) != SALT_LEN:
        raise DataDirError(f"{path} is damaged ({len(salt)} bytes, expected {SALT_LEN})")
    return salt


def machine_identity() -> bytes:
    """This machine's stable identity: the systemd/dbus machine-id, else the host name."""
    for candidate in MACHINE_ID_FILES:
        try:
            value = candidate.read_bytes().strip()
        except OSError:
            continue
        if value:
            return b"machine-id:" + value
    return b"hostname:" + socket.gethostname().encode("utf-8", "surrogateescape")


# --- sealing --------------------------------------------------------------------------------


class SecretBox:
    """AES-256-GCM with a versioned format: ``version (1) | nonce (12) | ciphertext + tag``.

    The version byte is authenticated together with the caller's ``aad``, so neither can be
    changed without :meth:`open` failing.
    """

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_LEN:
            raise ValueError(f"the master key must be {KEY_LEN} bytes, not {len(key)}")
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> SecretBox:
        """The box of this data dir on this machine (see the module docstring for the key)."""
        salt = _salt(keys_dir(data_dir))
        ikm = _length_prefixed(machine_identity())
        passphrase = os.environ.get(MASTER_SECRET_ENV, "")
        if passphrase:
            ikm += b"passphrase:" + _length_prefixed(passphrase.encode("utf-8", "surrogatepass"))
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_LEN, salt=salt, info=_HKDF_INFO)
        return cls(hkdf.derive(ikm))

    def seal(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        header = bytes([FORMAT_VERSION])
        nonce = os.urandom(NONCE_LEN)
        return header + nonce + self._aead.encrypt(nonce, bytes(plaintext), header + aad)

    def open(self, sealed: bytes, aad: bytes = b"") -> bytes:
        if len(sealed) < 1 + NONCE_LEN + TAG_LEN:
            raise SecretError("the sealed secret is truncated")
        if sealed[0] != FORMAT_VERSION:
            raise SecretError(f"the sealed secret has an unknown format version {sealed[0]}")
        header, nonce, body = sealed[:1], sealed[1 : 1 + NONCE_LEN], sealed[1 + NONCE_LEN :]
        try:
            return self._aead.decrypt(nonce, body, header + aad)
        except InvalidTag:
            raise SecretError(
                "the sealed secret cannot be opened: it was altered, or it was sealed on another "
                f"machine or with another {MASTER_SECRET_ENV}"
            ) from None


def _length_prefixed(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


def _secret_path(data_dir: Path, name: str) -> Path:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise InputError(f"a secret name is 1–64 of a-z, 0-9, _ and -; not {name!r}")
    return keys_dir(data_dir) / f"{name}.sealed"


def save_secret(data_dir: Path, name: str, value: bytes) -> None:
    """Seal ``value`` into ``DATA/keys/NAME.sealed`` (0600, atomic). The name is bound as AAD,
    so a sealed file renamed to another secret's name does not open."""
    path = _secret_path(data_dir, name)
    sealed = SecretBox.for_data_dir(data_dir).seal(value, aad=name.encode("ascii"))
    write_atomic(path, sealed, 0o600)


def load_secret(data_dir: Path, name: str) -> bytes | None:
    """The secret saved as ``name``, or None if there is none; :class:`SecretError` if it cannot
    be opened here."""
    path = _secret_path(data_dir, name)
    try:
        sealed = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return SecretBox.for_data_dir(data_dir).open(sealed, aad=name.encode("ascii"))
    except SecretError as exc:
        raise SecretError(f"{path}: {exc}") from None


# --- masking --------------------------------------------------------------------------------

MASK: Final = "***"
#: Known secrets shorter than this are not masked: they would blot out half a log, hiding nothing.
MIN_MASKED_LEN: Final = 4

# The look-behinds make each pattern start once per word, so a long blob cannot make them slow.
# A URL password runs to the last "@" before the path, so an unescaped "@" in it is masked too.
_URL_CREDENTIALS: Final = re.compile(
    r"(?P<head>(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^:/@\s]*):[^\s/?#]+@",
    re.IGNORECASE,
)
_KEY_VALUE: Final = re.compile(
    r"(?P<head>(?<![a-z0-9_.-])[a-z0-9_.-]*(?:pass(?:word|wd)?|pwd|token|secret|api[_-]?key)"
    r"[\"']?\s*[=:]\s*)"
    r"(?:(?P<quote>[\"'])[^\"'\n]*(?P=quote)|[^\s&;,\"'<>]+)",
    re.IGNORECASE,
)


def _mask_value(match: re.Match[str]) -> str:
    quote = match["quote"] or ""
    return f"{match['head']}{quote}{MASK}{quote}"


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with URL passwords (``scheme://user:***@``), ``password=***``/``token=***``-like
    pairs (also ``"password": "***"``) and every given secret (≥ 4 characters) replaced."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_MASKED_LEN}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL_CREDENTIALS.sub(rf"\g<head>:{MASK}@", text)
    return _KEY_VALUE.sub(_mask_value, text)


class SecretMaskFilter(logging.Filter):
    """Masks secrets in every record it sees (message, arguments, exception and stack text).

    Attach it to the *handlers* (a logger's own filters do not see records propagated from its
    children). Secrets loaded later (a SIP password) are added with :meth:`add`.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset(secrets)

    def add(self, secret: str) -> None:
        self._secrets = self._secrets | {secret}

    def filter(self, record: logging.LogRecord) -> bool:
        known = self._secrets
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error handling
            return True
        masked = mask(message, known)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text, known)
        if record.stack_info:
            record.stack_info = mask(record.stack_info, known)
        return True


# --- the hub certificate and TLS ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HubCertificate:
    """The hub's self-signed certificate; ``fingerprint`` is SHA-256 of the DER, 64 lower hex."""

    cert_pem: bytes
    key_pem: bytes = field(repr=False)
    fingerprint: str


def fingerprint_of(cert_pem: bytes) -> str:
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def ensure_hub_certificate(data_dir: Path, hub_id: str) -> HubCertificate:
    """The hub's certificate, created on first call (ECDSA P-256, self-signed, 10 years).

    The certificate goes to ``DATA/keys/hub.crt``, the private key is sealed as ``hub_key``.
    A key that cannot be opened here raises :class:`SecretError` rather than being replaced: a
    new key means a new fingerprint, and every node would have to pair again.
    """
    cert_path = keys_dir(data_dir) / HUB_CERT_FILE
    try:
        key_pem = load_secret(data_dir, HUB_KEY_SECRET)
    except SecretError as exc:
        raise SecretError(
            f"{exc}. Set the right {MASTER_SECRET_ENV}, or delete {cert_path} and the sealed "
            "hub_key to make a new certificate (every node must then pair again)"
        ) from None
    if key_pem is not None and cert_path.exists():
        return _load_hub_certificate(cert_path.read_bytes(), key_pem, cert_path)
    return _create_hub_certificate(data_dir, hub_id, cert_path)


def _load_hub_certificate(cert_pem: bytes, key_pem: bytes, cert_path: Path) -> HubCertificate:
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
    except ValueError as exc:
        raise DataDirError(f"{cert_path} or the sealed hub key is damaged: {exc}") from None
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*raw) != key.public_key().public_bytes(*raw):
        raise DataDirError(f"{cert_path} does not belong to the sealed hub key")
    der = cert.public_bytes(serialization.Encoding.DER)
    return HubCertificate(cert_pem, key_pem, hashlib.sha256(der).hexdigest())


def _create_hub_certificate(data_dir: Path, hub_id: str, cert_path: Path) -> HubCertificate:
    common_name = f"LSAvto hub {hub_id}"
    if not hub_id or len(common_name) > 64 or not hub_id.isprintable():
        raise InputError(f"hub id must be 1–53 printable characters, not {hub_id!r}")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    # Backdated a day: a tablet whose clock is a little behind still sees a valid certificate.
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=CERT_VALID_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(HUB_DNS_NAME),
                    x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    save_secret(data_dir, HUB_KEY_SECRET, key_pem)
    write_atomic(cert_path, cert_pem, 0o600)
    der = cert.public_bytes(serialization.Encoding.DER)
    return HubCertificate(cert_pem, key_pem, hashlib.sha256(der).hexdigest())


def server_ssl_context(cert: HubCertificate) -> ssl.SSLContext:
    """A TLS ≥ 1.2 server context holding the hub's certificate and key.

    ``ssl`` only loads keys from files, so the key is re-encrypted under a random one-time
    password into a temporary file that is deleted right after loading: the plain key never
    touches the disk.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    password = secrets.token_bytes(32)
    key = serialization.load_pem_private_key(cert.key_pem, password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
    fd, tmp = tempfile.mkstemp(prefix="lsavto-hub-", suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(cert.cert_pem + encrypted)
        ctx.load_cert_chain(certfile=tmp, password=password)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return ctx


def client_ssl_context() -> ssl.SSLContext:
    """A TLS ≥ 1.2 client context that accepts any certificate: trust comes from
    :func:`check_pin` right after the handshake, never from a CA or a host name."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def peer_fingerprint(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> str:
    """SHA-256 (64 lower hex) of the certificate the peer presented."""
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        raise TrustError("the peer presented no certificate")
    return hashlib.sha256(der).hexdigest()


def normalize_fingerprint(value: str) -> str:
    """``value`` as 64 lower hex (colons and spaces dropped); InputError if it is not one."""
    text = re.sub(r"[\s:]", "", value).lower() if isinstance(value, str) else ""
    if not _FINGERPRINT_RE.fullmatch(text):
        raise InputError(f"not a SHA-256 certificate fingerprint: {value!r}")
    return text


def check_pin(ssl_object: ssl.SSLObject | ssl.SSLSocket, expected: str) -> None:
    """Raise :class:`TrustError` unless the peer's certificate is the pinned one. Close the
    connection on that error without sending anything."""
    try:
        pin = normalize_fingerprint(expected)
    except InputError as exc:
        raise TrustError(f"the pinned fingerprint is invalid ({exc}); pair again") from None
    actual = peer_fingerprint(ssl_object)
    if not hmac.compare_digest(actual.encode("ascii"), pin.encode("ascii")):
        raise TrustError(
            f"the hub's certificate ({actual[:16]}…) is not the one pinned at pairing "
            f"({pin[:16]}…): another machine may be posing as the hub; if the hub was "
            "reinstalled, pair this node again"
        )
