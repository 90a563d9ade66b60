"""«Клиенты»: the one search box over the client base, and the results; a tap opens the card.

Typing searches live (after a short pause) by name, phone, plate or VIN —
``lsnode.crm.search`` reads the text every way it can mean. With nothing typed the screen
lists the clients of the latest contacts the signed-in employee may see, so it is never empty
on a working day. ``ClientsVM`` holds the logic; ``clients.kv`` the layout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import ListProperty, ObjectProperty, StringProperty

from lsnode.crm.staff import Session
from lsnode.errors import QueryError
from lsnode.store.ports import JournalQuery, Row
from lsnode.ui import i18n
from lsnode.ui import screens as registry
from lsnode.ui.screens import ORDER, LsScreen, load_kv, register
from lsnode.ui.screens.journal import allowed_scopes
from lsnode.ui.theme.widgets import Column, numeric

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

STRINGS = {
    "clients.title": ("Клиенты", "Clients"),
    "clients.hint": (
        "ФИО, телефон, гос. номер или VIN",
        "Name, phone, plate or VIN",
    ),
    "clients.recent": ("Клиенты последних контактов", "Clients of the latest contacts"),
    "clients.found": (
        "Найден {n} клиент|Найдено {n} клиента|Найдено {n} клиентов",
        "{n} client found|{n} clients found",
    ),
    "clients.none": ("Никого не нашли по «{q}»", "Nobody found for “{q}”"),
    "clients.signed_out": (
        "Войдите по PIN-коду, чтобы работать с клиентами",
        "Sign in with your PIN to work with clients",
    ),
    "clients.col.number": ("№", "No."),
    "clients.col.name": ("Наименование", "Name"),
    "clients.col.kind": ("Вид", "Kind"),
    "clients.col.phone": ("Контактный тел.", "Phone"),
    "clients.col.cars": ("Автомобили", "Cars"),
    "clients.col.inn": ("ИНН", "INN"),
    "clients.col.last": ("Последний вх. контакт", "Last incoming contact"),
    "clients.kind.person": ("ФЛ", "Person"),
    "clients.kind.company": ("ЮЛ", "Company"),
    "clients.more_cars": ("ещё {n}", "{n} more"),
    "clients.no_card": ("Карточка клиента недоступна", "The client card is not available"),
    "clients.err.long": (
        "Слишком длинный запрос: не больше 100 знаков",
        "The query is too long: at most 100 characters",
    ),
    "clients.err.chars": (
        "В запросе есть управляющие символы: уберите их",
        "The query holds control characters: remove them",
    ),
    "clients.err.nothing": (
        "Введите буквы или цифры: ФИО, телефон, номер или VIN",
        "Type letters or digits: a name, phone, plate or VIN",
    ),
}
i18n.register(STRINGS)

COLUMNS = [
    numeric("number", "clients.col.number", 0.5),
    Column("name", "clients.col.name", 2.2),
    Column("kind", "clients.col.kind", 0.5),
    Column("phone", "clients.col.phone", 1.3),
    Column("cars", "clients.col.cars", 2.0),
    Column("inn", "clients.col.inn", 1.0),
    numeric("last", "clients.col.last", 1.3),
]
RECENT_TRAFFIC = 400  # latest contacts looked at for «Клиенты последних контактов»
RECENT_CLIENTS = 60


def car_text(cars: Sequence[Row]) -> str:
    """«H433AP12 Mercedes-Benz E-класс, ещё 1»: the plate first, as people quote it."""
    if not cars:
        return ""
    car = cars[0]
    text = " ".join(p for p in (car["plate"], car["make"], car["model"]) if p)
    if len(cars) > 1:
        text += ", " + i18n.tr("clients.more_cars", n=len(cars) - 1)
    return text


def client_row(cp: Row, contacts: Sequence[Row], cars: Sequence[Row]) -> dict[str, Any]:
    phones = [c["value"] for c in contacts if c["kind"] == "phone"]
    return {
        "id": cp["id"],
        "number": "" if cp["number"] is None else str(cp["number"]),
        "name": cp["full_name"],
        "kind": i18n.tr(f"clients.kind.{cp['kind']}"),
        "phone": ", ".join(phones[:2]),
        "cars": car_text(cars),
        "inn": cp["inn"] or "",
        "last": i18n.format_datetime(cp["last_in_contact_at"]),
    }


def query_problem(error: QueryError) -> str:
    text = str(error)
    if "too long" in text:
        return i18n.tr("clients.err.long")
    if "control" in text:
        return i18n.tr("clients.err.chars")
    return i18n.tr("clients.err.nothing")


class ClientsVM(EventDispatcher):  # type: ignore[misc]
    """The search box's results (or the recent clients) as table rows of display strings.

    ``search(text)`` is the app's ``services.search``; ``clients`` the ``SqliteClients``;
    ``reader`` the ``SqliteTraffic`` (for the recent contacts)."""

    query = StringProperty("")
    rows = ListProperty([])
    caption = StringProperty("")
    error_text = StringProperty("")

    def __init__(
        self,
        *,
        search: Callable[[str], Any],
        clients: Any,
        reader: Any,
        session: Callable[[], Session | None],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._search, self.clients, self.reader, self._session = search, clients, reader, session
        # what was read: (counterparty, contacts, cars) per row, and what the caption says
        self._found: list[tuple[Row, Sequence[Row], Sequence[Row]]] = []
        self._mode = "signed_out"  # signed_out / recent / found
        self._problem: QueryError | None = None
        i18n.on_lang_change(self._on_lang)

    def set_query(self, text: str) -> None:
        self.query = text
        self.reload()

    def reload(self) -> None:
        session = self._session()
        self._problem = None
        text = self.query.strip()
        if session is None:
            self._mode, self._found = "signed_out", []
        elif not text:
            self._mode, self._found = "recent", self._recent(session)
        else:
            try:
                result = self._search(text)
            except QueryError as exc:
                self._problem = exc  # the rows of the last good search stay
            else:
                self._mode = "found"
                self._found = [(h.counterparty, h.contacts, h.cars) for h in result.hits]
        self._words()

    def _on_lang(self, _lang: str) -> None:
        self._words()

    def _words(self) -> None:
        """Rows and caption from what was read (no store access: a language switch re-words)."""
        self.error_text = query_problem(self._problem) if self._problem is not None else ""
        self.rows = [client_row(cp, contacts, cars) for cp, contacts, cars in self._found]
        if self._mode == "signed_out":
            self.caption = i18n.tr("clients.signed_out")
        elif self._mode == "recent":
            self.caption = i18n.tr("clients.recent")
        elif self.rows:
            self.caption = i18n.tr("clients.found", n=len(self.rows))
        else:
            self.caption = i18n.tr("clients.none", q=self.query.strip())

    def _recent(self, session: Session) -> list[tuple[Row, Sequence[Row], Sequence[Row]]]:
        scope = allowed_scopes(session)
        query = JournalQuery(me=session.employee_id, scope=scope, limit=RECENT_TRAFFIC)
        traffic, _total = self.reader.journal_brief(query) if scope else ([], 0)
        ids: list[str] = []
        for t in traffic:
            cp = t["counterparty_id"]
            if cp and cp not in ids:
                ids.append(cp)
                if len(ids) >= RECENT_CLIENTS:
                    break
        found = self.clients.counterparties(ids)
        ids = [i for i in ids if i in found]
        contacts = self.clients.contacts_of(ids, brief=True)
        cars = self.clients.cars_of(ids, brief=True)
        return [(found[i], contacts[i], cars[i]) for i in ids]


load_kv(__file__)


def open_client(app: Any, counterparty_id: str, back: str = "clients") -> bool:
    """Show the client card of ``counterparty_id`` (False if the card is not registered)."""
    if not any(s.name == "client_card" for s in registry.specs()):
        app.toast(i18n.tr("clients.no_card"), "neutral")
        return False
    app.go("client_card")
    card = app.screen("client_card")
    card.back_to = back
    card.open(counterparty_id)
    return True


class ClientsScreen(LsScreen):
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    columns = ListProperty(COLUMNS)

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        services = app.services
        assert services is not None
        vm = ClientsVM(
            search=services.search,
            clients=services.clients,
            reader=services.reader,
            session=lambda: services.session,
        )
        super().__init__(app, vm=vm, **kwargs)
        services.on_session.append(self._session_changed)
        self._typed = Clock.create_trigger(self._search, 0.3)

    def _session_changed(self, _session: Any) -> None:
        self.stale = True
        if self.manager is not None and self.manager.current == self.name:
            self.refresh()

    def refresh(self) -> None:
        self.vm.reload()

    def typed(self, _text: str) -> None:
        """Live search: wait for a pause in typing, then look up."""
        self._typed()

    def _search(self, *_: Any) -> None:
        self.vm.set_query(self.ids.query.text)

    def search_now(self) -> None:
        self._typed.cancel()
        self._search()

    def open_row(self, _index: int, row: dict[str, Any]) -> None:
        open_client(self.app, row["id"], back=self.name)


register(
    "clients",
    lambda app: ClientsScreen(app),
    label="clients.title",
    icon="clients",
    order=ORDER["clients"],
)
