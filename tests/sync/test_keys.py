"""Secrets at rest, log masking, the hub certificate and pinned TLS — on real files and sockets."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import logging
import os
import shutil
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lsnode.errors import DataDirError, InputError
from lsnode.sync import keys
from lsnode.sync.keys import (
    HubCertificate,
    SecretBox,
    SecretError,
    SecretMaskFilter,
    TrustError,
    check_pin,
    client_ssl_context,
    ensure_hub_certificate,
    load_secret,
    mask,
    peer_fingerprint,
    save_secret,
    server_ssl_context,
)

FACTOR = float(os.environ.get("LSAVTO_TEST_TIMEOUT_FACTOR", "1"))
PLAIN = b"sip-password: \xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c 12345"


@pytest.fixture(autouse=True)
def _no_operator_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(keys.MASTER_SECRET_ENV, raising=False)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- SecretBox --------------------------------------------------------------------------------


def test_round_trip_with_and_without_aad() -> None:
    box = SecretBox(os.urandom(32))
    for plaintext in (b"", b"x", PLAIN, os.urandom(5000)):
        assert box.open(box.seal(plaintext)) == plaintext
        assert box.open(box.seal(plaintext, b"ctx"), b"ctx") == plaintext


def test_sealed_format_is_versioned_and_every_seal_is_fresh() -> None:
    box = SecretBox(os.urandom(32))
    one, two = box.seal(PLAIN), box.seal(PLAIN)
    assert one[0] == keys.FORMAT_VERSION == 1
    assert len(one) == 1 + 12 + len(PLAIN) + 16
    assert one[1:13] != two[1:13]
    assert one != two


def test_any_altered_byte_is_detected() -> None:
    box = SecretBox(os.urandom(32))
    sealed = box.seal(PLAIN)
    for i in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[i] ^= 0x01
        with pytest.raises(SecretError):
            box.open(bytes(tampered))
    with pytest.raises(SecretError):
        box.open(sealed[:-1])
    with pytest.raises(SecretError, match="truncated"):
        box.open(sealed[:20])
    with pytest.raises(SecretError):
        box.open(sealed, aad=b"another context")


def test_another_key_cannot_open() -> None:
    sealed = SecretBox(os.urandom(32)).seal(PLAIN)
    with pytest.raises(SecretError, match="another machine"):
        SecretBox(os.urandom(32)).open(sealed)


def test_a_key_must_be_256_bits() -> None:
    with pytest.raises(ValueError):
        SecretBox(os.urandom(16))
    assert repr(SecretBox(os.urandom(32))) == "SecretBox(<key hidden>)"


def test_data_dir_box_is_stable_and_its_files_are_private(tmp_path: Path) -> None:
    sealed = SecretBox.for_data_dir(tmp_path).seal(PLAIN)
    assert SecretBox.for_data_dir(tmp_path).open(sealed) == PLAIN
    salt = tmp_path / "keys" / "salt"
    assert len(salt.read_bytes()) == 32
    assert mode_of(salt) == 0o600
    assert mode_of(tmp_path / "keys") == 0o700
    assert not [p for p in (tmp_path / "keys").iterdir() if p.name != "salt"]


def test_a_copied_data_dir_with_another_salt_cannot_open(tmp_path: Path) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    save_secret(here, "smtp", PLAIN)
    SecretBox.for_data_dir(there)  # a salt of its own
    shutil.copy(here / "keys" / "smtp.sealed", there / "keys" / "smtp.sealed")
    with pytest.raises(SecretError):
        load_secret(there, "smtp")


def test_another_machine_cannot_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_secret(tmp_path, "smtp", PLAIN)
    monkeypatch.setattr(keys, "machine_identity", lambda: b"machine-id:some-other-machine")
    with pytest.raises(SecretError, match="another machine"):
        load_secret(tmp_path, "smtp")


def test_the_operator_secret_is_part_of_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_secret(tmp_path, "plain", PLAIN)
    monkeypatch.setenv(keys.MASTER_SECRET_ENV, "Пароль оператора")
    with pytest.raises(SecretError):
        load_secret(tmp_path, "plain")
    save_secret(tmp_path, "guarded", PLAIN)
    assert load_secret(tmp_path, "guarded") == PLAIN
    monkeypatch.setenv(keys.MASTER_SECRET_ENV, "another passphrase")
    with pytest.raises(SecretError):
        load_secret(tmp_path, "guarded")
    monkeypatch.delenv(keys.MASTER_SECRET_ENV)
    assert load_secret(tmp_path, "plain") == PLAIN


def test_machine_identity_is_never_empty() -> None:
    assert keys.machine_identity().split(b":", 1)[1]


# --- secret files -----------------------------------------------------------------------------


def test_secret_files_are_private_sealed_and_atomic(tmp_path: Path) -> None:
    save_secret(tmp_path, "sip_password", PLAIN)
    path = tmp_path / "keys" / "sip_password.sealed"
    assert mode_of(path) == 0o600
    raw = path.read_bytes()
    assert PLAIN not in raw and b"12345" not in raw and b"sip" not in raw
    assert load_secret(tmp_path, "sip_password") == PLAIN
    save_secret(tmp_path, "sip_password", b"new")
    assert load_secret(tmp_path, "sip_password") == b"new"
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["salt", "sip_password.sealed"]


def test_a_missing_secret_is_none(tmp_path: Path) -> None:
    assert load_secret(tmp_path, "nothing") is None


@pytest.mark.parametrize("name", ["", "Upper", "a/b", "../x", "a.b", "x" * 65, "пароль", "a b"])
def test_secret_names_are_checked(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError):
        save_secret(tmp_path, name, b"x")
    with pytest.raises(InputError):
        load_secret(tmp_path, name)


def test_a_sealed_file_renamed_to_another_secret_does_not_open(tmp_path: Path) -> None:
    save_secret(tmp_path, "a", PLAIN)
    os.replace(tmp_path / "keys" / "a.sealed", tmp_path / "keys" / "b.sealed")
    with pytest.raises(SecretError, match=r"b\.sealed"):
        load_secret(tmp_path, "b")


def test_a_missing_data_dir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataDirError):
        save_secret(tmp_path / "typo", "a", b"x")
    assert not (tmp_path / "typo").exists()


# --- masking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sip://alice:s3cret@pbx.local:5060", "sip://alice:***@pbx.local:5060"),
        ("mailtos://u:p%40ss@smtp.x.ru/?to=a@b.ru", "mailtos://u:***@smtp.x.ru/?to=a@b.ru"),
        ("mailto://user:pass@mail.ru?to=x@y.ru", "mailto://user:***@mail.ru?to=x@y.ru"),
        ("sip://u:p@ss@host/x", "sip://u:***@host/x"),
        ("mailto://host:25/?to=a@b.ru", "mailto://host:25/?to=a@b.ru"),
        ("login password=hunter2 ok", "login password=*** ok"),
        ("GET /pull?token=abc123&since=5", "GET /pull?token=***&since=5"),
        ('{"password": "два слова", "api_key":"k"}', '{"password": "***", "api_key":"***"}'),
        ("SMTP_PASSWORD: qwe", "SMTP_PASSWORD: ***"),
        ("no secrets here: 42 cars", "no secrets here: 42 cars"),
    ],
)
def test_mask_patterns(text: str, expected: str) -> None:
    assert mask(text) == expected


def test_mask_known_secrets_but_not_tiny_ones() -> None:
    assert mask("the PIN 12 and key Zx9-Secret!", ["Zx9-Secret!", "12"]) == "the PIN 12 and key ***"


def test_mask_stays_fast_on_a_long_line() -> None:
    line = "a" * 50_000 + " " + "a." * 20_000 + "x://" + "a:" * 20_000
    assert mask(line) == line


def test_log_filter_masks_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    secret_filter = SecretMaskFilter(["Sup3rSecretSip"])
    handler.addFilter(secret_filter)
    logger = logging.getLogger("lsnode.test.mask")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("registering with %s", "sip://100:Sup3rSecretSip@pbx.local")
        logger.info("trunk password is %s", "Sup3rSecretSip")
        logger.info("apprise %s", "mailtos://hub:SmtpPass@smtp.dealer.ru")
        secret_filter.add("LateSecret42")
        logger.info("loaded LateSecret42 and token=abc")
        try:
            raise RuntimeError("login failed for password=LeakedInException")
        except RuntimeError:
            logger.exception("sender crashed")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    for leaked in ("Sup3rSecretSip", "SmtpPass", "LateSecret42", "abc", "LeakedInException"):
        assert leaked not in out
    assert "sip://100:***@pbx.local" in out
    assert "trunk password is ***" in out
    assert "RuntimeError" in out and "password=***" in out


# --- the hub certificate ----------------------------------------------------------------------


def test_hub_certificate_is_made_once(tmp_path: Path) -> None:
    first = ensure_hub_certificate(tmp_path, "hub-01")
    again = ensure_hub_certificate(tmp_path, "hub-01")
    assert again == first
    assert len(first.fingerprint) == 64 and first.fingerprint == first.fingerprint.lower()
    cert = x509.load_pem_x509_certificate(first.cert_pem)
    der = cert.public_bytes(serialization.Encoding.DER)
    assert first.fingerprint == hashlib.sha256(der).hexdigest()
    assert (tmp_path / "keys" / "hub.crt").read_bytes() == first.cert_pem
    assert "key_pem" not in repr(first)


def test_hub_certificate_contents(tmp_path: Path) -> None:
    cert = x509.load_pem_x509_certificate(ensure_hub_certificate(tmp_path, "hub-01").cert_pem)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == "LSAvto hub hub-01"
    assert cert.issuer == cert.subject
    public_key = cert.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert public_key.curve.name == "secp256r1"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["lsavto-hub.local"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    life = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=3640) < life <= dt.timedelta(days=3650)


def test_hub_key_is_sealed_on_disk(tmp_path: Path) -> None:
    hub = ensure_hub_certificate(tmp_path, "hub-01")
    raw = (tmp_path / "keys" / "hub_key.sealed").read_bytes()
    assert b"-----BEGIN" not in raw and b"PRIVATE KEY" not in raw
    assert mode_of(tmp_path / "keys" / "hub_key.sealed") == 0o600
    for path in (tmp_path / "keys").iterdir():
        assert b"PRIVATE KEY" not in path.read_bytes(), path
    assert load_secret(tmp_path, "hub_key") == hub.key_pem


def test_hub_key_from_another_machine_is_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_hub_certificate(tmp_path, "hub-01")
    before = (tmp_path / "keys" / "hub.crt").read_bytes()
    monkeypatch.setenv(keys.MASTER_SECRET_ENV, "not the one it was sealed with")
    with pytest.raises(SecretError, match="pair again"):
        ensure_hub_certificate(tmp_path, "hub-01")
    assert (tmp_path / "keys" / "hub.crt").read_bytes() == before


def test_a_certificate_of_another_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    ensure_hub_certificate(tmp_path / "a", "a")
    ensure_hub_certificate(tmp_path, "b")
    shutil.copy(tmp_path / "a" / "keys" / "hub.crt", tmp_path / "keys" / "hub.crt")
    with pytest.raises(DataDirError, match="does not belong"):
        ensure_hub_certificate(tmp_path, "b")


def test_hub_id_is_checked(tmp_path: Path) -> None:
    for bad in ("", "x" * 54, "a\nb"):
        with pytest.raises(InputError):
            ensure_hub_certificate(tmp_path, bad)


# --- TLS with a pinned certificate ------------------------------------------------------------


async def _handshake(hub: HubCertificate, pin: str) -> tuple[str, str | None, bytes]:
    """Connect a client with the pinning context; return the fingerprint it saw, the error text
    of check_pin (None if it passed) and what the server sent."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello node")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_ssl_context(hub))
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, ssl=client_ssl_context()), 10 * FACTOR
        )
        ssl_object = writer.get_extra_info("ssl_object")
        assert isinstance(ssl_object, ssl.SSLObject)
        assert ssl_object.version() in ("TLSv1.2", "TLSv1.3")
        seen = peer_fingerprint(ssl_object)
        error = None
        try:
            check_pin(ssl_object, pin)
        except TrustError as exc:
            error = str(exc)
        data = b"" if error else await asyncio.wait_for(reader.read(), 10 * FACTOR)
        writer.close()
        return seen, error, data
    finally:
        server.close()
        await server.wait_closed()


def test_tls_handshake_passes_the_right_pin(tmp_path: Path) -> None:
    hub = ensure_hub_certificate(tmp_path, "hub-01")
    seen, error, data = asyncio.run(_handshake(hub, hub.fingerprint))
    assert seen == hub.fingerprint
    assert error is None
    assert data == b"hello node"


def test_tls_pin_accepts_the_colon_form(tmp_path: Path) -> None:
    hub = ensure_hub_certificate(tmp_path, "hub-01")
    pin = ":".join(hub.fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()
    assert asyncio.run(_handshake(hub, pin))[1] is None


def test_tls_handshake_refuses_another_hub(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "impostor").mkdir()
    real = ensure_hub_certificate(tmp_path / "real", "hub-01")
    impostor = ensure_hub_certificate(tmp_path / "impostor", "hub-01")
    assert impostor.fingerprint != real.fingerprint
    seen, error, _ = asyncio.run(_handshake(impostor, real.fingerprint))
    assert seen == impostor.fingerprint
    assert error is not None and "pinned" in error


def test_a_malformed_pin_is_a_trust_error(tmp_path: Path) -> None:
    hub = ensure_hub_certificate(tmp_path, "hub-01")
    assert asyncio.run(_handshake(hub, "not-a-fingerprint"))[1] is not None


def test_server_context_leaves_no_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = ensure_hub_certificate(tmp_path, "hub-01")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    ctx = server_ssl_context(hub)
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert list(scratch.iterdir()) == []


def test_client_context_trusts_only_the_pin() -> None:
    ctx = client_ssl_context()
    assert ctx.verify_mode == ssl.CERT_NONE
    assert ctx.check_hostname is False
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
