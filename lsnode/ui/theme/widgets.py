"""The styled base widgets every screen builds from; their look is in ``base.kv`` beside this.

Use these instead of Kivy's raw ``Label`` / ``Button`` / ``TextInput`` so sizes and colours come
from the theme (``THEME``) and follow a switch of palette or device:

- text: ``HeadingLabel`` (28 sp bold), ``TitleLabel`` (20 sp bold), ``BodyLabel``,
  ``CaptionLabel`` (13 sp, muted), ``CellLabel`` (one line, shortened with «…»); ``Icon``.
- actions: ``PrimaryButton`` (accent: Зарегистрировать, Взять себе, Сохранить),
  ``FlatButton`` (secondary), ``DangerButton`` / ``FlatDangerButton`` (Игнорировать,
  Удалить — always behind ``confirm(…)``), ``SegmentButton`` (one of a set: ru/en, light/dark).
  All are at least ``theme.touch`` high and take ``text`` and an optional ``icon``.
- ``Field``: a one-line text input; ``Chip`` (a small coloured state: CRM status, ABC, traffic
  state) and ``PresenceDot`` (the same dot wherever a person is named).
- ``DataTable``: sticky header + RecycleView body of dict rows, zebra striping, right-aligned
  numeric/date columns, «18 из 1000», ``on_row_tap``.
- ``Panel`` (a titled block on a page) and ``FactRow`` («Хаб: 192.168.1.10:8765»).
- ``Card`` with ``CardSection`` children and a ``CardActions`` bottom bar (where the thumb is).
- ``confirm(…)`` → ``ConfirmDialog`` for destructive actions; ``Toast`` for errors (shown by the
  shell: ``app.shell.toast.show(text)``).

Widgets hold no logic beyond presentation; screens pass them data from view-models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.recycleview.views import RecycleDataViewBehavior
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from lsnode.ui import i18n
from lsnode.ui.theme import Tone
from lsnode.ui.theme.style import THEME

KV_FILE = Path(__file__).with_name("base.kv")

STRINGS = {
    "ui.table.count": ("{n} из {total}", "{n} of {total}"),
    "ui.table.empty": ("Нет записей", "No records"),
    "ui.confirm.cancel": ("Отмена", "Cancel"),
    "ui.confirm.title": ("Подтвердите действие", "Please confirm"),
    "ui.toast.close": ("Закрыть", "Close"),
}
i18n.register(STRINGS)


# --- text ------------------------------------------------------------------------------------


class BaseLabel(Label):  # type: ignore[misc]
    """A themed label that wraps to its width and grows to its text (no clipped Russian)."""


class HeadingLabel(BaseLabel):
    pass


class TitleLabel(BaseLabel):
    pass


class BodyLabel(BaseLabel):
    pass


class CaptionLabel(BaseLabel):
    pass


class CellLabel(Label):  # type: ignore[misc]
    """One line in a table cell: shortened with «…» rather than wrapped or overflowing."""


class Icon(Label):  # type: ignore[misc]
    """A Material Design icon by name or alias (``lsnode.ui.theme.icons``)."""

    icon = StringProperty("")


class ToneIcon(Icon):
    """An icon drawn in a tone's colour (the sync state in the status bar)."""

    tone = StringProperty(Tone.NEUTRAL.value)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        THEME.bind(palette_name=self._recolour)  # weak: widgets come and go
        self.fbind("tone", self._recolour)
        self._recolour()

    def _recolour(self, *_: Any) -> None:
        self.color = THEME.tone_rgba(self.tone)[0]


# --- actions ---------------------------------------------------------------------------------


class BaseButton(ButtonBehavior, AnchorLayout):  # type: ignore[misc]
    """Icon + text on a rounded fill; at least the device's touch target high.

    Subclasses only choose ``fill`` and ``ink`` in kv; ``on_release`` is the action."""

    text = StringProperty("")
    icon = StringProperty("")
    fill = ColorProperty([0, 0, 0, 0])
    ink = ColorProperty([0, 0, 0, 1])


class PrimaryButton(BaseButton):
    pass


class FlatButton(BaseButton):
    pass


class DangerButton(BaseButton):
    pass


class FlatDangerButton(BaseButton):
    pass


class SegmentButton(BaseButton):
    """One choice of a small set (language, theme, department tab); ``selected`` shows it."""

    selected = BooleanProperty(False)


class Field(TextInput):  # type: ignore[misc]
    """A one-line input at the touch-target height; never grabs focus by itself."""


# --- state -----------------------------------------------------------------------------------


class Chip(Label):  # type: ignore[misc]
    """A small coloured state (a ``Tone``): CRM status, ABC letter, traffic state."""

    tone = StringProperty(Tone.NEUTRAL.value)
    fill = ColorProperty([0, 0, 0, 0])
    ink = ColorProperty([0, 0, 0, 1])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        THEME.bind(palette_name=self._recolour)  # weak: widgets come and go
        self.fbind("tone", self._recolour)
        self._recolour()

    def _recolour(self, *_: Any) -> None:
        self.fill, self.ink = THEME.tone_rgba(self.tone)


class PresenceDot(Widget):  # type: ignore[misc]
    """Доступен green / Занят red / Нет на месте grey — the same dot everywhere."""

    presence = OptionProperty("away", options=["available", "busy", "away"])
    fill = ColorProperty([0, 0, 0, 0])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        THEME.bind(palette_name=self._recolour)  # weak: widgets come and go
        self.fbind("presence", self._recolour)
        self._recolour()

    def _recolour(self, *_: Any) -> None:
        self.fill = THEME.tone_rgba(self.presence)[0]


# --- tables ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: the row-dict ``key`` it shows, its title's i18n key, its share of the
    width, and alignment (numbers and dates right-aligned, as the brochure has them)."""

    key: str
    title: str
    weight: float = 1.0
    align: str = "left"

    def __post_init__(self) -> None:
        if self.align not in ("left", "right", "center"):
            raise ValueError(f"column {self.key}: align must be left/right/center")


def numeric(key: str, title: str, weight: float = 1.0) -> Column:
    """A right-aligned column (numbers, dates, durations)."""
    return Column(key, title, weight, "right")


class TableRow(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """One recycled row: cells made once per column layout, texts set on each refresh."""

    index = NumericProperty(0)
    zebra = BooleanProperty(False)
    table: Any = ObjectProperty(None, allownone=True)

    def refresh_view_attrs(self, rv: Any, index: int, data: dict[str, Any]) -> None:
        self.index = index
        self.zebra = index % 2 == 1
        self.table = data["table"]
        columns: Sequence[Column] = data["columns"]
        cells = [c for c in reversed(self.children) if isinstance(c, CellLabel)]
        if len(cells) != len(columns):
            self.clear_widgets()
            cells = [CellLabel() for _ in columns]
            for cell in cells:
                self.add_widget(cell)
        row = data["row"]
        for cell, column in zip(cells, columns, strict=True):
            cell.size_hint_x = column.weight
            cell.halign = column.align
            value = row.get(column.key, "")
            cell.text = "" if value is None else str(value)

    def on_release(self) -> None:
        if self.table is not None:
            self.table.tap_row(self.index)


class DataTable(BoxLayout):  # type: ignore[misc]
    """Sticky header + recycled body (10,000 rows scroll) + a count «18 из 1000».

    ``columns``: a list of ``Column``; ``rows``: dicts of already formatted strings, made by
    the screen's view-model (dates via ``i18n.format_datetime``); ``total``: how many match
    before paging (-1: all are shown). ``on_row_tap(index, row)`` opens the card."""

    columns = ListProperty([])
    rows = ListProperty([])
    total = NumericProperty(-1)
    rv_data = ListProperty([])
    __events__ = ("on_row_tap",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fbind("rows", self._refresh_data)
        self.fbind("columns", self._refresh_data)
        self.fbind("columns", self._rebuild_header)
        i18n.on_lang_change(self._on_lang)
        Clock.schedule_once(self._rebuild_header, 0)

    def _on_lang(self, _lang: str) -> None:
        self._rebuild_header()

    def _refresh_data(self, *_: Any) -> None:
        columns = list(self.columns)
        self.rv_data = [{"row": row, "columns": columns, "table": self} for row in self.rows]

    def _rebuild_header(self, *_: Any) -> None:
        header = self.ids.get("header")
        if header is None:
            return
        header.clear_widgets()
        for column in self.columns:
            header.add_widget(
                HeaderCell(
                    text=i18n.tr(column.title), size_hint_x=column.weight, halign=column.align
                )
            )

    def tap_row(self, index: int) -> None:
        if 0 <= index < len(self.rows):
            self.dispatch("on_row_tap", index, self.rows[index])

    def on_row_tap(self, index: int, row: dict[str, Any]) -> None:
        pass


class HeaderCell(CellLabel):
    pass


# --- cards -----------------------------------------------------------------------------------


class CardSection(BoxLayout):  # type: ignore[misc]
    """A titled block of a card («Основные данные», «Автомобили», …)."""

    title = StringProperty("")


class Panel(BoxLayout):  # type: ignore[misc]
    """A titled surface block on a page (a settings group, a filter box); grows to content."""

    title = StringProperty("")
    icon = StringProperty("")


class FactRow(BoxLayout):  # type: ignore[misc]
    """«Label: value» on one line (wrapping when long): key facts in cards and panels."""

    label = StringProperty("")
    value = StringProperty("")


class CardActions(BoxLayout):  # type: ignore[misc]
    """The card's actions; placed in the bottom bar, right-aligned, where the thumb is."""


class Card(BoxLayout):  # type: ignore[misc]
    """Header with the key facts, then scrolling sections, then the action bar.

    In kv, children are routed by type: ``CardSection`` → the scrolling body, ``CardActions``
    → the bottom bar, anything else → the header under the title (facts, chips)."""

    title = StringProperty("")
    subtitle = StringProperty("")

    def add_widget(self, widget: Widget, *args: Any, **kwargs: Any) -> None:
        ids = self.ids
        if isinstance(widget, CardSection) and "sections" in ids:
            ids.sections.add_widget(widget)
        elif isinstance(widget, CardActions) and "bar" in ids:
            ids.bar.add_widget(widget)
        elif "facts" in ids and not isinstance(widget, CardPart):
            ids.facts.add_widget(widget)
        else:
            super().add_widget(widget, *args, **kwargs)


class CardPart(BoxLayout):  # type: ignore[misc]
    """The card's own header / body / bar (not routed)."""


# --- dialogs and toasts ----------------------------------------------------------------------


class ConfirmDialog(ModalView):  # type: ignore[misc]
    """«Are you sure?» before a destructive action; the confirm button is danger-coloured."""

    title = StringProperty("")
    text = StringProperty("")
    confirm_text = StringProperty("")
    danger = BooleanProperty(True)
    on_confirm: Callable[[], None] | None = None

    def confirmed(self) -> None:
        self.dismiss()
        if self.on_confirm is not None:
            self.on_confirm()


def confirm(
    text: str,
    confirm_text: str,
    on_confirm: Callable[[], None],
    *,
    title: str = "",
    danger: bool = True,
) -> ConfirmDialog:
    """Open a confirmation; ``on_confirm`` runs only if the user confirms (texts translated)."""
    dialog = ConfirmDialog(
        title=title or i18n.tr("ui.confirm.title"),
        text=text,
        confirm_text=confirm_text,
        danger=danger,
    )
    dialog.on_confirm = on_confirm
    dialog.open()
    return dialog


class Toast(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """A snackbar for errors and notices at the bottom; hides after ``duration`` or a tap.

    It does not take focus or block the screen behind it."""

    text = StringProperty("")
    tone = StringProperty(Tone.DANGER.value)
    shown = BooleanProperty(False)
    fill = ColorProperty([0, 0, 0, 0])
    ink = ColorProperty([0, 0, 0, 1])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._hide_ev: Any = None
        THEME.bind(palette_name=self._recolour)  # weak: widgets come and go
        self.fbind("tone", self._recolour)
        self._recolour()

    def _recolour(self, *_: Any) -> None:
        self.fill, self.ink = THEME.tone_rgba(self.tone)

    def show(self, text: str, tone: str = Tone.DANGER.value, duration: float = 6.0) -> None:
        self.text, self.tone, self.shown = text, tone, True
        if self._hide_ev is not None:
            self._hide_ev.cancel()
        self._hide_ev = Clock.schedule_once(lambda _dt: self.hide(), duration)

    def hide(self) -> None:
        self.shown = False

    def on_release(self) -> None:
        self.hide()

    def on_touch_down(self, touch: Any) -> bool:
        if not self.shown:
            return False
        return bool(super().on_touch_down(touch))


def slide_in(widget: Widget, distance: float, duration: float = 0.18) -> None:
    """Slide a widget in from the right by animating its ``offset`` property (if any)."""
    if hasattr(widget, "offset"):
        widget.offset = distance
        Animation(offset=0, d=duration, t="out_cubic").start(widget)
