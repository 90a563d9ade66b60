"""The voice menu (IVR): what it says, which digit picks which department, and its prompts.

``Menu`` is data (stored as JSON in ``sip_lines.menu``; ``DEFAULT_MENU`` otherwise): the prompt
files, the digits and the timeout after which the call goes to the operator. ``MenuSession`` is
the pure decision: feed it digits and the time, it says when the caller has chosen. Prompts are
8 kHz mono WAV files in ``assets/voice/`` (``scripts/voice-prompts.sh`` makes them with
espeak-ng) or in ``DATA/voice/`` for a dealer's own recordings; ``load_prompt`` turns either into
the 8-bit unsigned frames the SIP adapter plays.
"""

from __future__ import annotations

import audioop
import json
import math
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from lsnode.errors import InputError, NotFound

RATE: Final = 8000
FRAME: Final = 160

#: What the prompts say (the script that makes the WAVs reads these).
PROMPT_TEXTS: Final = {
    "greeting": "Здравствуйте! Вы позвонили в дилерский центр.",
    "menu": "Нажмите 1 — сервис, 2 — продажа автомобилей, 3 — запчасти, 0 — оператор.",
    "busy": "Все операторы заняты. Пожалуйста, оставайтесь на линии, вам ответят.",
}


@dataclass(frozen=True, slots=True)
class MenuChoice:
    digit: str
    department: str
    purpose_code: int | None  # contact_purposes.code; None: the department's first incoming
    label: str


@dataclass(frozen=True, slots=True)
class Menu:
    prompts: tuple[str, ...] = ("greeting", "menu")
    choices: tuple[MenuChoice, ...] = field(default_factory=tuple)
    operator: MenuChoice = MenuChoice("0", "other", 32, "оператор")
    timeout_s: float = 8.0  # after the prompts end; then the operator
    busy_prompt: str = "busy"
    enabled: bool = True

    def choice(self, digit: str) -> MenuChoice | None:
        if digit == self.operator.digit:
            return self.operator
        return next((c for c in self.choices if c.digit == digit), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Menu:
        if not text.strip():
            return DEFAULT_MENU
        try:
            data: dict[str, Any] = json.loads(text)
            return cls(
                prompts=tuple(data.get("prompts", DEFAULT_MENU.prompts)),
                choices=tuple(MenuChoice(**c) for c in data.get("choices", ())),
                operator=MenuChoice(**data["operator"])
                if "operator" in data
                else DEFAULT_MENU.operator,
                timeout_s=float(data.get("timeout_s", DEFAULT_MENU.timeout_s)),
                busy_prompt=str(data.get("busy_prompt", "busy")),
                enabled=bool(data.get("enabled", True)),
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise InputError(f"the voice menu is not valid: {exc}") from None


DEFAULT_MENU: Final = Menu(
    choices=(
        MenuChoice("1", "service", 2, "сервис"),
        MenuChoice("2", "salon", 1, "продажа автомобилей"),
        MenuChoice("3", "shop", 21, "запчасти"),
    )
)


@dataclass
class MenuSession:
    """One caller in the menu: ``prompts_done`` when the last prompt ends; ``digit`` and
    ``tick`` return the choice once there is one (a digit, or the operator on timeout)."""

    menu: Menu
    chosen: MenuChoice | None = None
    digits: str = ""
    waiting_since: float | None = None
    by_timeout: bool = False

    def prompts_done(self, now: float) -> None:
        if self.waiting_since is None:
            self.waiting_since = now

    def digit(self, digit: str) -> MenuChoice | None:
        if self.chosen is None:
            self.digits += digit
            self.chosen = self.menu.choice(digit)
        return self.chosen

    def tick(self, now: float) -> MenuChoice | None:
        waiting = self.waiting_since
        if self.chosen is None and waiting is not None and now - waiting >= self.menu.timeout_s:
            self.chosen, self.by_timeout = self.menu.operator, True
        return self.chosen


def prompt_path(name: str, data_dir: Path | None = None) -> Path:
    """A dealer's own ``DATA/voice/NAME.wav`` first, then the shipped one."""
    from lsnode.assets import assets_dir

    if not name.replace("_", "").replace("-", "").isalnum():
        raise InputError(f"a prompt name is letters, digits, - and _: {name!r}")
    if data_dir is not None:
        own = Path(data_dir) / "voice" / f"{name}.wav"
        if own.is_file():
            return own
    shipped = assets_dir() / "voice" / f"{name}.wav"
    if not shipped.is_file():
        raise NotFound(f"no voice prompt {name} ({shipped})")
    return shipped


def load_prompt(path: Path) -> bytes:
    """A WAV (any rate, mono or stereo, 8/16-bit PCM) as 8 kHz mono 8-bit unsigned audio,
    padded to whole 20 ms frames."""
    with wave.open(str(path), "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        data = w.readframes(w.getnframes())
    if width == 1:
        data = audioop.bias(data, 1, -128)  # WAV 8-bit is unsigned; audioop works signed
    if channels == 2:
        data = audioop.tomono(data, width, 0.5, 0.5)
    if rate != RATE:
        data, _ = audioop.ratecv(data, width, 1, rate, RATE, None)
    if width != 1:
        data = audioop.lin2lin(data, width, 1)
    data = audioop.bias(data, 1, 128)
    pad = -len(data) % FRAME
    return data + b"\x80" * pad


def frames(audio: bytes) -> list[bytes]:
    return [audio[i : i + FRAME] for i in range(0, len(audio), FRAME)]


def tone(seconds: float, on_s: float = 1.0, off_s: float = 4.0, hz: float = 425.0) -> bytes:
    """The Russian ringback tone (425 Hz, 1 s on, 4 s off) while an employee's phone rings."""
    out = bytearray()
    for i in range(int(seconds * RATE)):
        t = i / RATE
        on = (t % (on_s + off_s)) < on_s
        out.append(128 + int(40 * math.sin(2 * math.pi * hz * t)) if on else 128)
    return bytes(out) + b"\x80" * (-len(out) % FRAME)
