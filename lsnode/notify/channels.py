"""Channels (Способы уведомлений): their settings, and the transport that delivers through them.

* **Email** — SMTP server, port, security (``ssl``, ``starttls``, ``none``), sender, login,
  password; sent through apprise (``mailto://`` / ``mailtos://``).
* **SMS** — an HTTP gateway given as an apprise URL: ``json://`` or ``form://`` for any gateway
  with an HTTP API (``:message=msg`` renames the text field, ``:to={to}`` adds the phone), or a
  provider apprise knows (``smsc://login:{password}@{to}`` for SMSC.ru). ``{to}`` becomes the
  recipient's phone (E.164 digits) and ``{password}`` the channel's sealed password, both
  URL-quoted. A URL with a password written into it is refused: passwords go into the password
  field, sealed (``sealing.py``).
* **File** — writes each message as a text file into a folder (safe file names).
* **FTP** — uploads the same file with ``ftplib`` (``tls`` for FTPS).
* **LAN** and **Phone** — no transport: the sender writes a LAN message row or a call task for
  an employee in the store (``outbox.py``).

URLs are logged only as apprise prints them with ``privacy=True`` (and through ``mask``).
"""

from __future__ import annotations

import ftplib
import io
import logging
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlencode

from lsnode.errors import InputError
from lsnode.notify.outbox import Outgoing, Result
from lsnode.sync.keys import mask, write_atomic

log = logging.getLogger("lsavto.notify")

SECURITY: Final = ("ssl", "starttls", "none")
#: Settings each kind accepts (anything else is refused), and their defaults.
FIELDS: Final[dict[str, dict[str, Any]]] = {
    "email": {
        "host": "",
        "port": 587,
        "security": "starttls",
        "sender": "",
        "sender_name": "",
        "login": "",
    },
    "sms": {"url": ""},
    "file": {"folder": ""},
    "ftp": {"host": "", "port": 21, "login": "", "folder": "", "tls": False},
    "lan": {},
    "phone": {"employee_id": ""},
}
TIMEOUT_S: Final = 20
_SAMPLE_PHONE: Final = "79000000000"
_UNSAFE: Final = re.compile(r"[^\w.-]+")


def check_settings(kind: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` of a channel of ``kind`` as stored: known keys, right types, defaults."""
    if kind not in FIELDS:
        raise InputError(f"unknown channel kind {kind!r}: one of {', '.join(FIELDS)}")
    known = FIELDS[kind]
    unknown = set(settings) - set(known)
    if unknown:
        raise InputError(f"a {kind} channel has no setting(s) {', '.join(sorted(unknown))}")
    out = dict(known)
    for key, value in settings.items():
        default = known[key]
        if isinstance(default, bool):
            out[key] = value in (True, 1, "1", "true", "yes", "on")
        elif isinstance(default, int):
            try:
                out[key] = int(value)
            except (TypeError, ValueError):
                raise InputError(f"{key} must be a number, not {value!r}") from None
            if key == "port" and not 0 < out[key] < 65536:
                raise InputError(f"port must be 1–65535, not {value!r}")
        else:
            out[key] = str(value or "").strip()
    if kind == "email" and out["security"] not in SECURITY:
        raise InputError(f"security must be one of {', '.join(SECURITY)}")
    if kind == "sms" and out["url"]:
        check_sms_url(out["url"])
    return out


def check_sms_url(url: str) -> None:
    """An SMS gateway URL must be one apprise understands and carry no password of its own."""
    bare = url.replace("{to}", "").replace("{password}", "")
    if mask(bare) != bare:
        raise InputError(
            "the gateway URL holds a password or key: enter it in the password field and write "
            "{password} where it goes in the URL"
        )
    if "{to}" not in url:
        raise InputError("the gateway URL needs {to} where the recipient's phone goes")
    if _instantiate(sms_url({"url": url}, "secret", _SAMPLE_PHONE)) is None:
        raise InputError(f"apprise does not understand the gateway URL {mask(url)!r}")


def _instantiate(url: str) -> Any:
    import apprise

    return apprise.Apprise.instantiate(url, suppress_exceptions=True)


def email_url(settings: Mapping[str, Any], password: str | None, to: str) -> str:
    security = settings.get("security", "starttls")
    scheme = "mailto" if security == "none" else "mailtos"
    auth = ""
    if settings.get("login"):
        auth = quote(str(settings["login"]), safe="")
        if password:
            auth += ":" + quote(password, safe="")
        auth += "@"
    query: dict[str, str] = {
        "from": str(settings.get("sender") or settings.get("login") or ""),
        "to": to,
        "format": "text",
        "smtp": str(settings["host"]),
        "cto": str(TIMEOUT_S),
        "rto": str(TIMEOUT_S),
    }
    if security != "none":
        query["mode"] = security
    if settings.get("sender_name"):
        query["name"] = str(settings["sender_name"])
    return f"{scheme}://{auth}{settings['host']}:{int(settings['port'])}?{urlencode(query)}"


def sms_url(settings: Mapping[str, Any], password: str | None, to: str) -> str:
    phone = to.lstrip("+")
    return (
        str(settings["url"])
        .replace("{to}", quote(phone, safe=""))
        .replace("{password}", quote(password or "", safe=""))
    )


def masked(url: str) -> str:
    """A URL as logs may show it: apprise's privacy form, else credentials masked."""
    plugin = _instantiate(url)
    shown = plugin.url(privacy=True) if plugin is not None else url
    return mask(str(shown))


def safe_filename(text: str, limit: int = 60) -> str:
    """A file name made of ``text``: letters (Cyrillic too), digits, ``.``, ``-``, ``_`` only."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", text)).strip("._-")
    return name[:limit].rstrip("._-") or "message"


def file_name(out: Outgoing) -> str:
    stamp = re.sub(r"\D", "", out.created_at)[:14]
    ref = str(out.message_number) if out.message_number else out.addressee_id[:8]
    return f"{stamp}_{ref}_{safe_filename(out.recipient or out.address)}.txt"


def file_text(out: Outgoing) -> bytes:
    head = f"Кому: {out.recipient} {out.address}".rstrip()
    return f"{head}\nТема: {out.subject}\n\n{out.body}\n".encode()


def _reason(captured: str) -> str:
    """What apprise said went wrong: its warnings and the exceptions it logged, one line."""
    keep = [
        line.split(" ", 1)[1]
        for line in captured.splitlines()
        if " " in line
        and (
            line.startswith(("WARNING", "ERROR"))
            or any(w in line for w in ("Exception", "rror", "Response", "HTTP"))
        )
    ]
    return " ".join(" ".join(keep).split())[-500:] or "refused"


class AppriseTransport:
    """Delivers e-mail and SMS through apprise, files into a folder, uploads over FTP."""

    def send(self, out: Outgoing) -> Result:
        kind = out.channel_kind
        if kind == "email":
            if not out.settings.get("host"):
                return Result(False, "the e-mail channel has no SMTP server")
            return self._apprise(email_url(out.settings, out.secret, out.address), out)
        if kind == "sms":
            if not out.settings.get("url"):
                return Result(False, "the SMS channel has no gateway URL")
            return self._apprise(sms_url(out.settings, out.secret, out.address), out, sms=True)
        if kind == "file":
            return self._file(out)
        if kind == "ftp":
            return self._ftp(out)
        return Result(False, f"channel {kind} is not delivered by a transport")

    def _apprise(self, url: str, out: Outgoing, sms: bool = False) -> Result:
        import apprise

        plugin = _instantiate(url)
        if plugin is None:
            return Result(False, f"apprise does not understand {masked(url)}")
        shown = mask(str(plugin.url(privacy=True)), [out.secret or ""])
        with apprise.LogCapture(  # type: ignore[no-untyped-call]
            level=logging.DEBUG, fmt="%(levelname)s %(message)s"
        ) as captured:
            ok = plugin.notify(body=out.body, title="" if sms else out.subject)
        if ok:
            log.info("message %s sent via %s", out.message_number or out.message_id, shown)
            return Result(True, "")
        why = _reason(str(captured.getvalue()))
        why = mask(why, [out.secret or ""])
        log.warning(
            "message %s not sent via %s: %s", out.message_number or out.message_id, shown, why
        )
        return Result(False, why)

    def _file(self, out: Outgoing) -> Result:
        folder = Path(str(out.settings.get("folder") or ""))
        if not str(folder):
            return Result(False, "the file channel has no folder")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / file_name(out)
            write_atomic(path, file_text(out), 0o644)
        except OSError as exc:
            return Result(False, f"cannot write into {folder}: {exc.strerror or exc}")
        return Result(True, str(path), delivered=True)

    def _ftp(self, out: Outgoing) -> Result:
        s = out.settings
        if not s.get("host"):
            return Result(False, "the FTP channel has no server")
        ftp: ftplib.FTP = (
            ftplib.FTP_TLS(timeout=TIMEOUT_S) if s.get("tls") else ftplib.FTP(timeout=TIMEOUT_S)
        )
        name = file_name(out)
        try:
            ftp.connect(str(s["host"]), int(s.get("port") or 21))
            ftp.login(str(s.get("login") or "anonymous"), out.secret or "")
            if isinstance(ftp, ftplib.FTP_TLS):
                ftp.prot_p()
            if s.get("folder"):
                ftp.cwd(str(s["folder"]))
            ftp.storbinary(f"STOR {name}", io.BytesIO(file_text(out)))
            ftp.quit()
        except (OSError, EOFError, ftplib.Error) as exc:
            ftp.close()
            return Result(False, mask(f"FTP {s['host']}: {exc}", [out.secret or ""]))
        return Result(True, f"ftp://{s['host']}/{str(s.get('folder') or '').strip('/')}/{name}")
