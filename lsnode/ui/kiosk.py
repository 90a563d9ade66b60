"""The reception kiosk (``lsavto kiosk --data DIR``): self check-in for walk-in visitors.

::

    «Добро пожаловать!»          department tiles, from the enabled incoming purposes
      → purpose tiles            skipped when the department offers one purpose
      → «Какой автомобиль …?»    only for purposes that require make/model/class
      → phone keypad             «+7 (925) 111-22-33», checked with ``normalize_phone``
      → «Как к вам обращаться?»  optional; the kiosk's own ЙЦУКЕН / QWERTY keyboard
      → «Вы в очереди: 2 · Ожидание ≈ 5 мин»      back to the start after 15 s or a tap

The visit is ``Traffic.register(TrafficDraft(contact_type="visit", origin="kiosk", …), None,
Action.QUEUE)``: it lands in the waiting queue of every node through sync, and in the same
transaction each Available employee of the department gets a LAN message (``lan_messages``, the
notification module's internal channel), so the alert reaches them even where nobody looks at
the queue. A client card whose phone matches exactly is linked to the visit; the kiosk never
shows anything about it — no name, no car, no history: the screen only echoes what the visitor
typed, and forgets it on the way back to the start (or after a minute without a touch).

Purposes that «require make/model/class» get a car step: the dealer's most common models (names
only, counted over the car base) and body classes as big buttons, or a model typed on the
keyboard — the brochure's requirement accepts a class, which any visitor can answer. Purposes
that require a region are not offered: a visitor cannot know which region the dealer means.

Logic lives in ``KioskVM`` (no widgets; tested without a window); ``kiosk.kv`` holds the layout.
``KioskApp`` is the workstation app without the rail, the status bar and anyone's data; it
starts on the pairing screen when the kiosk is not paired yet (or with ``--pair``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.factory import Factory
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import NoTransition
from kivy.uix.widget import Widget

from lsnode.crm.normalize import normalize_phone
from lsnode.crm.traffic import Action, TrafficDraft
from lsnode.errors import LsnodeError
from lsnode.store.schema import DEPARTMENTS
from lsnode.ui import i18n
from lsnode.ui.app import WorkstationApp
from lsnode.ui.screens import LsScreen
from lsnode.ui.theme.style import THEME

log = logging.getLogger("lsavto.ui.kiosk")

KV_FILE = Path(__file__).with_name("kiosk.kv")

STEPS: Final = ("welcome", "purpose", "car", "phone", "name", "done")
RETURN_AFTER_S: Final = 15  # the «you are in the queue» screen, then back to the start
IDLE_AFTER_S: Final = 60  # a visitor who walked away mid-way: forget what they typed
MAX_NAME: Final = 60
MAX_CAR: Final = 60
NATIONAL_DIGITS: Final = 10
PHONE_MASK: Final = "+7 (XXX) XXX-XX-XX"
POPULAR_MODELS: Final = 6

# What the staff read (stored data, in the dealer's language whatever the visitor's language).
INTRODUCED: Final = "Представился: {name}"
ALERT_TITLE: Final = "Посетитель в очереди (киоск)"
ALERT_PLACE: Final = "место в очереди {place}"

DEPARTMENT_ICONS: Final = {
    "service": "car-wrench",
    "salon": "car",
    "shop": "car-cog",
    "feedback": "comment-quote-outline",
    "other": "help-circle-outline",
}
#: Friendly words for the brochure's default purposes, by their visible code (ID).
PURPOSE_ICONS: Final = {
    2: "car-wrench",
    21: "car-cog",
    1: "car-key",
    22: "car-multiple",
    24: "cash-multiple",
    102: "shield-check-outline",
    31: "comment-quote-outline",
    32: "help-circle-outline",
}
CAR_CLASSES: Final = ("sedan", "crossover", "suv", "minivan")

KEY_ROWS: Final = {
    "ru": ("ЙЦУКЕНГШЩЗХ", "ФЫВАПРОЛДЖЭ", "ЯЧСМИТЬЪБЮЁ"),
    "en": ("QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"),
}
DIGIT_ROW: Final = "1234567890"
ROW_SLOTS: Final = 11  # keys in the widest row: shorter rows are centred at the same key width

STRINGS = {
    "kiosk.title": ("LSAvto — киоск ресепшена", "LSAvto — reception kiosk"),
    "kiosk.back": ("Назад", "Back"),
    "kiosk.next": ("Далее", "Next"),
    "kiosk.welcome": ("Добро пожаловать!", "Welcome!"),
    "kiosk.welcome.ask": ("С чем мы можем вам помочь?", "How can we help you?"),
    "kiosk.welcome.footer": (
        "Выберите раздел — и мы пригласим вас, как только консультант освободится",
        "Choose a topic — we will call you as soon as a consultant is free",
    ),
    "kiosk.dept.service": ("Сервис", "Service"),
    "kiosk.dept.service.hint": ("Ремонт и техническое обслуживание", "Repair and maintenance"),
    "kiosk.dept.salon": ("Покупка автомобиля", "Buying a car"),
    "kiosk.dept.salon.hint": (
        "Новые и с пробегом, выкуп, кредит и страхование",
        "New and used cars, trade-in, credit and insurance",
    ),
    "kiosk.dept.shop": ("Запчасти и аксессуары", "Parts and accessories"),
    "kiosk.dept.shop.hint": ("Магазин запасных частей", "The parts shop"),
    "kiosk.dept.feedback": ("Отзыв или претензия", "Feedback or a complaint"),
    "kiosk.dept.feedback.hint": (
        "Расскажите, что понравилось или что нам исправить",
        "Tell us what you liked or what we should fix",
    ),
    "kiosk.dept.other": ("Другой вопрос", "Something else"),
    "kiosk.dept.other.hint": ("Администратор поможет", "Our administrator will help"),
    "kiosk.purpose.ask": ("Что вас интересует?", "What are you interested in?"),
    "kiosk.purpose.2": ("Ремонт и ТО", "Repair and maintenance"),
    "kiosk.purpose.2.hint": ("Диагностика, ремонт, плановое ТО", "Diagnostics, repair, servicing"),
    "kiosk.purpose.21": ("Запчасти", "Spare parts"),
    "kiosk.purpose.21.hint": ("Подбор и покупка запасных частей", "Finding and buying parts"),
    "kiosk.purpose.1": ("Новый автомобиль", "A new car"),
    "kiosk.purpose.1.hint": ("Подбор, тест-драйв, покупка", "Choosing, test drive, purchase"),
    "kiosk.purpose.22": ("Автомобиль с пробегом", "A used car"),
    "kiosk.purpose.22.hint": ("Автомобили с пробегом в наличии", "Used cars in stock"),
    "kiosk.purpose.24": ("Продать свой автомобиль", "Sell your car"),
    "kiosk.purpose.24.hint": ("Выкуп и трейд-ин", "Buy-back and trade-in"),
    "kiosk.purpose.102": ("Кредит и страхование", "Credit and insurance"),
    "kiosk.purpose.102.hint": (
        "Расчёт кредита, ОСАГО и КАСКО",
        "Loan calculation, car insurance",
    ),
    "kiosk.purpose.31": ("Отзыв или претензия", "Feedback or a complaint"),
    "kiosk.purpose.31.hint": (
        "Расскажите, что понравилось или что нам исправить",
        "Tell us what you liked or what we should fix",
    ),
    "kiosk.purpose.32": ("Другой вопрос", "Something else"),
    "kiosk.purpose.32.hint": ("Администратор поможет", "Our administrator will help"),
    "kiosk.car.interest": ("Какой автомобиль вас интересует?", "Which car are you interested in?"),
    "kiosk.car.own": ("Какой у вас автомобиль?", "Which car do you drive?"),
    "kiosk.car.ask": (
        "Выберите модель или класс автомобиля",
        "Pick a model or a class of car",
    ),
    "kiosk.car.or_type": ("Или напишите модель:", "Or type the model:"),
    "kiosk.car.hint": ("Модель автомобиля", "Car model"),
    "kiosk.car.required": (
        "Выберите модель или класс автомобиля — или напишите модель",
        "Pick a model or a class of car — or type the model",
    ),
    "kiosk.car.class.sedan": ("Седан", "Sedan"),
    "kiosk.car.class.crossover": ("Кроссовер", "Crossover"),
    "kiosk.car.class.suv": ("Внедорожник", "SUV"),
    "kiosk.car.class.minivan": ("Минивэн", "Minivan"),
    "kiosk.phone.title": ("Ваш номер телефона", "Your phone number"),
    "kiosk.phone.ask": (
        "По нему консультант найдёт вас и свяжется с вами",
        "The consultant will find and contact you by this number",
    ),
    "kiosk.phone.missing": (
        "Номер неполный: не хватает {n} цифры|Номер неполный: не хватает {n} цифр|"
        "Номер неполный: не хватает {n} цифр",
        "The number is incomplete: {n} digit is missing|"
        "The number is incomplete: {n} digits are missing",
    ),
    "kiosk.phone.empty": (
        "Наберите номер на клавиатуре ниже",
        "Type the number on the keypad below",
    ),
    "kiosk.phone.invalid": (
        "Такого номера не существует — проверьте, пожалуйста",
        "This number does not exist — please check it",
    ),
    "kiosk.phone.clear": ("Стереть", "Clear"),
    "kiosk.name.title": ("Как к вам обращаться?", "How should we address you?"),
    "kiosk.name.ask": ("Необязательно — можно пропустить", "Optional — you may skip it"),
    "kiosk.name.hint": ("Ваше имя", "Your name"),
    "kiosk.name.skip": ("Пропустить", "Skip"),
    "kiosk.name.done": ("Встать в очередь", "Join the queue"),
    "kiosk.key.space": ("Пробел", "Space"),
    "kiosk.done.thanks": ("Спасибо!", "Thank you!"),
    "kiosk.done.thanks_name": ("Спасибо, {name}!", "Thank you, {name}!"),
    "kiosk.done.place": ("Вы в очереди: {n}", "You are number {n}"),
    "kiosk.done.wait": ("Ожидание ≈ {wait}", "Waiting time ≈ {wait}"),
    "kiosk.done.coming": ("Консультант уже идёт к вам", "A consultant is on the way"),
    "kiosk.done.sit": (
        "Присаживайтесь, пожалуйста: консультант подойдёт к вам",
        "Please take a seat: a consultant will come to you",
    ),
    "kiosk.done.failed": ("Не получилось встать в очередь", "Could not join the queue"),
    "kiosk.done.failed_text": (
        "Пожалуйста, обратитесь к администратору на ресепшене",
        "Please ask the administrator at the reception desk",
    ),
    "kiosk.done.ok": ("Готово", "Done"),
    "kiosk.done.back_in": (
        "Экран вернётся к началу через {n} с — или коснитесь его",
        "Back to the start in {n} s — or tap the screen",
    ),
}
i18n.register(STRINGS)


# --- what the kiosk offers ------------------------------------------------------------------


def offered(purposes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The purposes a visitor may pick: enabled, incoming, and not requiring a region."""
    return [
        p for p in purposes if p["enabled"] and p["direction"] == "in" and not p["require_region"]
    ]


def purpose_tile(p: dict[str, Any]) -> dict[str, str]:
    """A purpose in a visitor's words: the default set has friendly titles by its code; a
    purpose the dealer added shows its own full name."""
    code = p.get("code")
    key = f"kiosk.purpose.{code}"
    if code is not None and i18n.has(key):
        title, hint = i18n.tr(key), i18n.tr(f"{key}.hint")
    else:
        title, hint = p["full_name"], ""
    icon = PURPOSE_ICONS.get(code or 0, DEPARTMENT_ICONS.get(p["department"], "walk"))
    return {"key": p["id"], "title": title, "hint": hint, "icon": icon}


def department_tile(department: str) -> dict[str, str]:
    return {
        "key": department,
        "title": i18n.tr(f"kiosk.dept.{department}"),
        "hint": i18n.tr(f"kiosk.dept.{department}.hint"),
        "icon": DEPARTMENT_ICONS[department],
    }


def popular_models(db: Any, limit: int = POPULAR_MODELS) -> list[str]:
    """The dealer's most common models over the car base («Kia Rio»): names and counts only,
    nothing about whose cars they are."""
    rows = db.execute(
        "SELECT make, model FROM cars WHERE coalesce(make, '') != '' AND coalesce(model, '') != '' "
        "GROUP BY make, model ORDER BY count(*) DESC, make, model LIMIT ?",
        [limit],
    ).fetchall()
    return [f"{make} {model}" for make, model in rows]


# --- the phone as typed -----------------------------------------------------------------------


def national_digits(typed: str) -> str:
    """The ten national digits in what was typed: a leading 8 or 7 is the trunk or country
    prefix once the number has 11 digits, or at once when a mobile 9 follows it."""
    if typed[:1] in ("7", "8") and (len(typed) > NATIONAL_DIGITS or typed[1:2] == "9"):
        return typed[1:]
    return typed


def max_typed(typed: str) -> int:
    return NATIONAL_DIGITS + 1 if typed[:1] in ("7", "8") else NATIONAL_DIGITS


def split_phone(national: str) -> tuple[str, str]:
    """(typed part, rest of the mask): ``"92511"`` → ``("+7 (925) 11", "_-__-__")``; nothing
    typed yet → ``("+7 (", "___) ___-__-__")``."""
    filled = list(PHONE_MASK)
    digits = iter(national)
    last = PHONE_MASK.index("X")
    for pos, char in enumerate(PHONE_MASK):
        if char != "X":
            continue
        digit = next(digits, None)
        if digit is None:
            break
        filled[pos], last = digit, pos + 1
    text = "".join(filled)
    return text[:last], text[last:].replace("X", "_")


# --- the view-model ---------------------------------------------------------------------------


class KioskVM(EventDispatcher):  # type: ignore[misc]
    """The visitor's way through the kiosk; every string here is ready to show.

    ``traffic`` is ``lsnode.crm.traffic.Traffic``; ``reader`` its ``SqliteTraffic`` (purposes,
    employees); ``clients`` answers ``by_phone_e164`` and ``counterparty``; ``writer`` groups the
    registration and the alerts in one transaction. ``set_lang`` switches the app's language
    (the visitor's choice, undone on the way back to the start)."""

    step = OptionProperty("welcome", options=list(STEPS))
    departments = ListProperty([])
    purposes = ListProperty([])
    department = StringProperty("")
    department_title = StringProperty("")
    purpose_id = StringProperty("")
    car_title = StringProperty("")
    car_options = ListProperty([])
    car_text = StringProperty("")
    car_error = StringProperty("")
    phone_typed = StringProperty("")
    phone_rest = StringProperty("")
    phone_error = StringProperty("")
    phone_complete = BooleanProperty(False)
    name_text = StringProperty("")
    layout = OptionProperty("ru", options=list(KEY_ROWS))
    lang = StringProperty(i18n.DEFAULT_LANG)
    place = NumericProperty(0)
    minutes = NumericProperty(0)
    thanks_text = StringProperty("")
    done_title = StringProperty("")
    wait_text = StringProperty("")
    done_text = StringProperty("")
    failed = BooleanProperty(False)
    countdown = NumericProperty(0)
    countdown_text = StringProperty("")
    traffic_id = StringProperty("")  # the last registered visit (for tests and logs only)

    def __init__(
        self,
        *,
        traffic: Any,
        reader: Any,
        clients: Any,
        writer: Any,
        models: Sequence[str] = (),
        set_lang: Callable[[str], None] | None = None,
        home_lang: str = i18n.DEFAULT_LANG,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.traffic, self.reader, self.clients, self.writer = traffic, reader, clients, writer
        self.models = list(models)
        self._set_lang = set_lang
        self.home_lang = home_lang
        self.lang = i18n.current_lang()
        self._purposes: list[dict[str, Any]] = []
        self._history: list[str] = []
        self._digits = ""
        self._idle = 0
        i18n.on_lang_change(self._on_lang)
        self.reload()
        self._show_phone()

    # -- the catalogue -----------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the purposes (they may change on the hub while the kiosk runs)."""
        self._purposes = offered(self.reader.purposes())
        self._render()

    def _render(self) -> None:
        """The tiles' words in the current language, from the purposes read last."""
        have = {p["department"] for p in self._purposes}
        self.departments = [department_tile(d) for d in DEPARTMENTS if d in have]
        if self.department:
            self.purposes = [purpose_tile(p) for p in self._in(self.department)]
            self.department_title = i18n.tr(f"kiosk.dept.{self.department}")
        self._car_options()

    def _in(self, department: str) -> list[dict[str, Any]]:
        return [p for p in self._purposes if p["department"] == department]

    def _purpose(self) -> dict[str, Any] | None:
        return next((p for p in self._purposes if p["id"] == self.purpose_id), None)

    def _car_options(self) -> None:
        options = [{"key": m, "title": m} for m in self.models]
        if self.department == "salon":
            options += [
                {
                    "key": i18n.entry(f"kiosk.car.class.{c}")[0],
                    "title": i18n.tr(f"kiosk.car.class.{c}"),
                }
                for c in CAR_CLASSES
            ]
        self.car_options = options
        own = self.department not in ("salon", "")
        self.car_title = i18n.tr("kiosk.car.own" if own else "kiosk.car.interest")

    def _on_lang(self, lang: str) -> None:
        self.lang = lang
        self._render()
        if self.phone_error:
            self._check_phone(show=True)
        if self.car_error:
            self.car_error = i18n.tr("kiosk.car.required")
        if self.step == "done":
            self._done_texts()

    # -- moving through the steps ------------------------------------------------------------

    def _go(self, step: str) -> None:
        self._history.append(self.step)
        self.step = step
        if step == "car":
            self.layout = "en"  # models are mostly written in Latin letters
        elif step == "name":
            self.layout = "ru" if i18n.current_lang() == "ru" else "en"

    def touched(self) -> None:
        """Any touch on the screen: the visitor is still there."""
        self._idle = 0

    def back(self) -> None:
        self.touched()
        self.step = self._history.pop() if self._history else "welcome"
        if self.step == "welcome":
            self._history.clear()

    def choose_lang(self, lang: str) -> None:
        self.touched()
        if self._set_lang is not None:
            self._set_lang(lang)
        self.layout = "ru" if lang == "ru" else "en"

    def choose_department(self, department: str) -> None:
        self.touched()
        choices = self._in(department)
        if not choices:
            return
        self.department = department
        self.department_title = i18n.tr(f"kiosk.dept.{department}")
        self.purposes = [purpose_tile(p) for p in choices]
        self._car_options()
        if len(choices) == 1:
            self._pick(choices[0])  # «Назад» from the next step lands on the welcome screen
        else:
            self._go("purpose")

    def choose_purpose(self, purpose_id: str) -> None:
        self.touched()
        purpose = next((p for p in self._in(self.department) if p["id"] == purpose_id), None)
        if purpose is not None:
            self._pick(purpose)

    def _pick(self, purpose: dict[str, Any]) -> None:
        self.purpose_id = purpose["id"]
        self.car_error = ""
        self._go("car" if purpose["require_car"] else "phone")

    def choose_car(self, value: str) -> None:
        self.touched()
        self.car_text = value[:MAX_CAR]
        self.car_error = ""
        self._go("phone")

    def submit_car(self) -> None:
        self.touched()
        if not self.car_text.strip():
            self.car_error = i18n.tr("kiosk.car.required")
            return
        self.car_error = ""
        self._go("phone")

    # -- the phone keypad --------------------------------------------------------------------

    def press_digit(self, digit: str) -> None:
        self.touched()
        if len(digit) != 1 or not digit.isdigit():
            raise ValueError(f"not a digit: {digit!r}")
        if len(self._digits) < max_typed(self._digits + digit):
            self._digits += digit
        self._show_phone()

    def erase_digit(self) -> None:
        self.touched()
        self._digits = self._digits[:-1]
        self._show_phone()

    def clear_phone(self) -> None:
        self.touched()
        self._digits = ""
        self._show_phone()

    @property
    def national(self) -> str:
        return national_digits(self._digits)

    def _show_phone(self) -> None:
        self.phone_typed, self.phone_rest = split_phone(self.national)
        self.phone_complete = len(self.national) == NATIONAL_DIGITS
        if self.phone_error:
            self._check_phone(show=self.phone_complete)
            if not self.phone_complete:
                self.phone_error = ""

    def _check_phone(self, *, show: bool) -> bool:
        national = self.national
        missing = NATIONAL_DIGITS - len(national)
        if not national:
            error = i18n.tr("kiosk.phone.empty")
        elif missing > 0:
            error = i18n.tr("kiosk.phone.missing", n=missing)
        elif not normalize_phone("+7" + national, "RU").valid:
            error = i18n.tr("kiosk.phone.invalid")
        else:
            error = ""
        if show or not error:
            self.phone_error = error
        return not error

    def submit_phone(self) -> None:
        self.touched()
        if self._check_phone(show=True):
            self._go("name")

    # -- the on-screen keyboard (the name, or a model on the car step) -----------------------

    @property
    def _target(self) -> str:
        return "car_text" if self.step == "car" else "name_text"

    def type_char(self, char: str) -> None:
        self.touched()
        target = self._target
        text = getattr(self, target)
        if len(text) >= (MAX_CAR if target == "car_text" else MAX_NAME):
            return
        if char == " " and (not text or text.endswith((" ", "-"))):
            return
        word_start = not text or text.endswith((" ", "-"))
        setattr(self, target, text + (char.upper() if word_start else char.lower()))
        if target == "car_text":
            self.car_error = ""

    def erase_char(self) -> None:
        self.touched()
        target = self._target
        setattr(self, target, getattr(self, target)[:-1])

    def toggle_layout(self) -> None:
        self.touched()
        self.layout = "en" if self.layout == "ru" else "ru"

    def submit_name(self, skip: bool = False) -> None:
        self.touched()
        if skip:
            self.name_text = ""
        self.register()

    # -- joining the queue -------------------------------------------------------------------

    def _client_of(self, e164: str | None) -> str | None:
        """The one client card with this phone; none when unknown or ambiguous."""
        if not e164:
            return None
        found = self.clients.by_phone_e164(e164, 2)
        if len(found) != 1 or self.clients.counterparty(found[0]) is None:
            return None
        return str(found[0])

    def register(self) -> None:
        """Put the visitor into the department's waiting queue and alert who is Available."""
        purpose = self._purpose()
        national = self.national
        phone = normalize_phone("+7" + national, "RU")
        name = " ".join(self.name_text.split())
        car = " ".join(self.car_text.split()) if purpose and purpose["require_car"] else ""
        draft = TrafficDraft(
            contact_type="visit",
            department=self.department,
            purpose_id=self.purpose_id or None,
            counterparty_id=self._client_of(phone.e164),
            phone="".join(split_phone(national)),
            make_model=car,
            origin="kiosk",
            extra_info=INTRODUCED.format(name=name) if name else "",
        )
        try:
            with self.writer.transaction():
                registered = self.traffic.register(draft, None, Action.QUEUE)
                place, minutes = self.traffic.queue_estimate(registered.traffic_id)
                self._alert(purpose, car, name, place)
        except LsnodeError as exc:
            log.warning("kiosk: the visit could not be registered: %s", exc)
            self.failed, self.place, self.minutes, self.traffic_id = True, 0, 0, ""
        else:
            self.failed, self.place, self.minutes = False, place, minutes
            self.traffic_id = registered.traffic_id
        self._history.clear()
        self.step = "done"
        self.countdown = RETURN_AFTER_S
        self._done_texts()

    def _alert(self, purpose: dict[str, Any] | None, car: str, name: str, place: int) -> None:
        """A LAN message to each Available employee of the department (synced like any row)."""
        parts = [purpose["full_name"] if purpose else self.department, car]
        parts += [INTRODUCED.format(name=name) if name else "", ALERT_PLACE.format(place=place)]
        text = " · ".join(p for p in parts if p)
        for emp in self.reader.employees():
            departments = json.loads(emp["departments"] or "[]")
            if emp["presence"] == "available" and self.department in departments:
                self.writer.insert(
                    "lan_messages", {"employee_id": emp["id"], "title": ALERT_TITLE, "text": text}
                )

    def _done_texts(self) -> None:
        name = " ".join(self.name_text.split())
        if self.failed:
            self.thanks_text = ""
            self.done_title = i18n.tr("kiosk.done.failed")
            self.wait_text = ""
            self.done_text = i18n.tr("kiosk.done.failed_text")
        else:
            self.thanks_text = (
                i18n.tr("kiosk.done.thanks_name", name=name)
                if name
                else i18n.tr("kiosk.done.thanks")
            )
            if self.place:
                self.done_title = i18n.tr("kiosk.done.place", n=int(self.place))
                wait = i18n.format_wait(int(self.minutes) * 60)
                self.wait_text = i18n.tr("kiosk.done.wait", wait=wait)
            else:  # taken already, before the kiosk could count
                self.done_title = i18n.tr("kiosk.done.coming")
                self.wait_text = ""
            self.done_text = i18n.tr("kiosk.done.sit")
        self.countdown_text = i18n.tr("kiosk.done.back_in", n=int(self.countdown))

    # -- time --------------------------------------------------------------------------------

    def tick(self, *_: Any) -> None:
        """Once a second (the screen's Clock): count down on the last screen, and forget a
        visitor who walked away mid-way."""
        if self.step == "done":
            self.countdown -= 1
            if self.countdown <= 0:
                self.reset()
            else:
                self.countdown_text = i18n.tr("kiosk.done.back_in", n=int(self.countdown))
        elif self.step != "welcome":
            self._idle += 1
            if self._idle >= IDLE_AFTER_S:
                self.reset()

    def finish(self) -> None:
        """«Готово» or a tap on the last screen."""
        if self.step == "done":
            self.reset()

    def reset(self) -> None:
        """Back to «Добро пожаловать», forgetting everything the visitor typed."""
        self._history.clear()
        self._digits, self._idle = "", 0
        self.department = self.purpose_id = ""
        self.purposes = []
        self.car_text = self.car_error = self.phone_error = self.name_text = ""
        self.failed, self.place, self.minutes, self.countdown = False, 0, 0, 0
        self.thanks_text = self.done_title = self.wait_text = self.done_text = ""
        self.countdown_text = ""
        self._show_phone()
        self._car_options()
        self.step = "welcome"
        if self._set_lang is not None and i18n.current_lang() != self.home_lang:
            self._set_lang(self.home_lang)
        self.layout = "ru" if self.home_lang == "ru" else "en"


# --- widgets ----------------------------------------------------------------------------------


class KioskKey(ButtonBehavior, Label):  # type: ignore[misc]
    """One big key: a character (``label``) or an icon; ``accent`` for the action keys."""

    label = StringProperty("")
    icon = StringProperty("")
    accent = BooleanProperty(False)
    name = StringProperty("")  # «key-А», «key-space»: found by tests and screenshots


class KioskTile(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """A big choice: icon, title, one line of explanation, chevron."""

    key = StringProperty("")
    title = StringProperty("")
    hint = StringProperty("")
    icon = StringProperty("")
    even_height = NumericProperty(0)  # side by side, tiles take the tallest one's height


class KioskChoice(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """A smaller choice (a model or a body class on the car step)."""

    key = StringProperty("")
    title = StringProperty("")
    hint = StringProperty("")
    icon = StringProperty("")


class KioskChoices(GridLayout):  # type: ignore[misc]
    """Tiles from ``items`` (dicts with key, title, hint, icon); ``on_choose(key)``."""

    items = ListProperty([])
    viewclass = StringProperty("KioskTile")
    __events__ = ("on_choose",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._even = Clock.create_trigger(self._even_heights)
        self.fbind("cols", self._even)

    def on_items(self, *_: Any) -> None:
        self.clear_widgets()
        view = Factory.get(self.viewclass)
        for item in self.items:
            tile = view(
                key=item["key"],
                title=item["title"],
                hint=item.get("hint", ""),
                icon=item.get("icon", ""),
            )
            tile.bind(on_release=lambda t: self.dispatch("on_choose", t.key))
            texts = tile.ids.get("texts")
            if texts is not None:
                texts.fbind("height", self._even)
            self.add_widget(tile)
        self._even()

    def _even_heights(self, *_: Any) -> None:
        tiles = [t for t in self.children if isinstance(t, KioskTile)]
        tallest = 0.0
        if tiles and (self.cols or 1) > 1:
            tallest = max(t.ids.texts.height for t in tiles) + 2 * THEME.gap_l
        for tile in tiles:
            tile.even_height = tallest

    def on_choose(self, key: str) -> None:
        pass


class KioskKeyboard(BoxLayout):  # type: ignore[misc]
    """ЙЦУКЕН / QWERTY letters (and digits on the car step), hyphen, space, erase.

    Typing goes to ``vm.type_char``; capitals at word starts are the view-model's business.
    Keys are made only while ``active`` (its step is on screen): some fifty big labels cost
    time to draw, and a visitor who never reaches the keyboard should not pay for it."""

    vm: Any = ObjectProperty(None, rebind=True)
    layout = StringProperty("ru")
    digits = BooleanProperty(False)
    active = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._built: tuple[str, bool] | None = None
        self._space: KioskKey | None = None
        self.fbind("layout", self._rebuild)
        self.fbind("digits", self._rebuild)
        self.fbind("active", self._rebuild)
        i18n.on_lang_change(self._on_lang)

    def _on_lang(self, _lang: str) -> None:
        if self._space is not None:
            self._space.label = i18n.tr("kiosk.key.space")

    def _key(self, label: str = "", icon: str = "", **kw: Any) -> KioskKey:
        return KioskKey(label=label, icon=icon, **kw)

    def _rebuild(self, *_: Any) -> None:
        wanted = (self.layout, self.digits)
        if not self.active or self._built == wanted:
            return
        self._built = wanted
        self.clear_widgets()
        rows = ([DIGIT_ROW] if self.digits else []) + list(
            KEY_ROWS.get(self.layout, KEY_ROWS["ru"])
        )
        for row in rows:
            box = Factory.KioskKeyRow()
            pad = (ROW_SLOTS - len(row)) / 2
            if pad:
                box.add_widget(Widget(size_hint_x=pad))
            for char in row:
                key = self._key(char, name=f"key-{char}")
                key.bind(on_release=lambda _k, c=char: self._type(c))
                box.add_widget(key)
            if pad:
                box.add_widget(Widget(size_hint_x=pad))
            self.add_widget(box)
        bottom = Factory.KioskKeyRow()
        toggle = self._key(
            "ABC" if self.layout == "ru" else "АБВ", size_hint_x=2, name="key-layout"
        )
        toggle.bind(on_release=lambda _k: self.vm and self.vm.toggle_layout())
        hyphen = self._key("-", name="key--")
        hyphen.bind(on_release=lambda _k: self._type("-"))
        space = self._key(i18n.tr("kiosk.key.space"), size_hint_x=6, name="key-space")
        space.bind(on_release=lambda _k: self._type(" "))
        self._space = space
        erase = self._key(icon="backspace-outline", size_hint_x=2, name="key-erase")
        erase.bind(on_release=lambda _k: self.vm and self.vm.erase_char())
        for key in (toggle, hyphen, space, erase):
            bottom.add_widget(key)
        self.add_widget(bottom)

    def _type(self, char: str) -> None:
        if self.vm is not None:
            self.vm.type_char(char)

    def key(self, name: str) -> KioskKey:
        """The key named ``key-<char>`` (``key-space``, ``key-erase``, ``key-layout``)."""
        for row in self.children:
            for child in row.children:
                if isinstance(child, KioskKey) and child.name == name:
                    return child
        raise KeyError(name)


class KioskScreen(LsScreen):
    """The visitor's screen; the steps are screens of an inner manager bound to ``vm.step``."""

    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    wide = BooleanProperty(False)  # landscape: tiles in two columns, keypads beside texts

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        services = app.services
        assert services is not None and app.ctx is not None and app.ctx.db is not None
        vm = KioskVM(
            traffic=services.traffic,
            reader=services.reader,
            clients=services.clients,
            writer=services.writer,
            models=popular_models(app.ctx.db),
            set_lang=app.set_lang,
            home_lang=app.lang,
        )
        super().__init__(app, vm=vm, **kwargs)
        self._ticker: Any = None
        self.fbind("size", self._orient)

    def _orient(self, *_: Any) -> None:
        self.wide = self.width > self.height

    def on_kv_post(self, _base: Any) -> None:
        self.ids.steps.transition = NoTransition()
        self.vm.fbind("step", self._show_step)
        self._show_step()

    def _show_step(self, *_: Any) -> None:
        self.ids.steps.current = self.vm.step

    def on_enter(self, *_: Any) -> None:
        if self._ticker is None:
            self._ticker = Clock.schedule_interval(self.vm.tick, 1.0)

    def on_leave(self, *_: Any) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def refresh(self) -> None:
        if self.vm.step == "welcome":
            self.vm.reload()

    def on_touch_down(self, touch: Any) -> bool:
        self.vm.touched()
        if self.vm.step == "done" and self.collide_point(*touch.pos):
            self.vm.finish()
            return True
        return bool(super().on_touch_down(touch))


class KioskRoot(FloatLayout):  # type: ignore[misc]
    """The kiosk's window: the screens (kiosk, pairing) and the error toast; no rail, no
    status bar, no popups."""

    app: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    shell: Any = ObjectProperty(None, rebind=True)  # kv chains through it

    def on_shell(self, _inst: Any, shell: Any) -> None:
        shell.toast.fbind("serial", self._show_toast)

    def _show_toast(self, vm: Any, _serial: int) -> None:
        self.ids.toast.show(vm.message, vm.tone)


# --- the app ----------------------------------------------------------------------------------


class KioskApp(WorkstationApp):
    """``lsavto kiosk``: the visitor's screen, and the pairing screen for the staff.

    ``pair``: start on the pairing screen (``--pair``); an unpaired kiosk starts there too,
    with «Пропустить» to work without a hub."""

    home_screen = "kiosk"

    def __init__(
        self,
        data_dir: Path,
        *,
        device: str = "kiosk",
        pair: bool = False,
        mdns_interfaces: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_dir, device=device, **kwargs)
        self.pair_first = pair
        self.mdns_interfaces = mdns_interfaces
        self.title = "LSAvto"

    def load_kv(self, filename: str | None = None) -> bool:
        """Kivy would load ``kiosk.kv`` by the app's name on every start; ``build`` loads it
        once per process instead (several apps run one after another in tests)."""
        return False

    def build(self) -> KioskRoot:
        from lsnode.ui import boot, screens
        from lsnode.ui.app import kivy_poster
        from lsnode.ui.context import NodeContext
        from lsnode.ui.screens import pairing  # noqa: F401  (registers «pairing»)
        from lsnode.ui.services import Services
        from lsnode.ui.theme import device as device_profile

        boot.install()
        THEME.use_device(device_profile(self.device))
        self.set_theme(self._initial_theme)
        self.set_lang(self._initial_lang)
        screens.load_kv(str(KV_FILE))
        if self.runtime._poster is None:
            self.runtime.set_poster(kivy_poster)
        self.runtime.start()
        ctx = NodeContext(Path(self.data_dir), self.runtime, mdns_interfaces=self.mdns_interfaces)
        ctx.open()
        self.ctx = ctx
        self.services = Services(ctx)
        self.shell.status.bind_context(ctx)
        root = KioskRoot(app=self, shell=self.shell)
        self._manager = root.ids.screens
        self._manager.transition = NoTransition()
        self._manager.add_widget(KioskScreen(self, name="kiosk"))
        self.shell.nav.fbind("current", self._show_current)
        first = self.start_screen or ("pairing" if self.pair_first or not ctx.paired else "kiosk")
        self.go(first)
        return root


# --- screenshots ------------------------------------------------------------------------------

SHOT_PHONE: Final = "9251112233"


def render_screenshots(
    data_dir: Path, out_dir: Path, langs: Sequence[str] = ("ru", "en"), device: str = "kiosk"
) -> list[Path]:
    """Each step of the kiosk (and its pairing screen) as ``kiosk-<lang>-<step>.png``, with
    sync off; the visit made on the way is really registered in ``data_dir``."""
    from lsnode.ui.harness import Harness
    from lsnode.ui.theme import device as device_profile

    app = KioskApp(data_dir, device=device, lang=langs[0], sync=False, start_screen="kiosk")
    harness = Harness(app).start(size=device_profile(device).size)
    written: list[Path] = []
    out = Path(out_dir)
    try:
        screen = app.screen("kiosk")
        vm: KioskVM = screen.vm
        for lang in langs:
            vm.reset()
            app.set_lang(lang)
            vm.home_lang = lang

            def shot(name: str, lang: str = lang) -> None:
                written.append(harness.screenshot(out / f"{device}-{lang}-kiosk-{name}.png"))

            shot("welcome")
            salon = next((d["key"] for d in vm.departments if d["key"] == "salon"), None)
            vm.choose_department(salon or vm.departments[0]["key"])
            shot("purpose")
            car = next((p for p in vm._in(vm.department) if p["require_car"]), None)
            if car is not None:
                vm.choose_purpose(car["id"])
                shot("car")
                for char in "Kia K5":
                    vm.type_char(char)
                shot("car-typed")
                vm.submit_car()
            elif vm.step == "purpose":
                vm.choose_purpose(vm.purposes[0]["key"])
            for digit in SHOT_PHONE[:6]:
                vm.press_digit(digit)
            vm.submit_phone()
            shot("phone-incomplete")
            for digit in SHOT_PHONE[6:]:
                vm.press_digit(digit)
            shot("phone")
            vm.submit_phone()
            for char in "Иван" if lang == "ru" else "John":
                if char.isascii() and vm.layout == "ru":
                    vm.toggle_layout()
                vm.type_char(char)
            shot("name")
            vm.submit_name()
            shot("done")
            vm.reset()
        app.set_lang(langs[0])
        app.go("pairing")
        for lang in langs:
            app.set_lang(lang)
            written.append(harness.screenshot(out / f"{device}-{lang}-pairing.png"))
    finally:
        harness.stop()
    return written
