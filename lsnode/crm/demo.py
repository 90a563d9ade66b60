"""Demo data: a believable Russian Mercedes-Benz/Kia dealership, reproducible from a seed.

The brochure's own client comes first (number 1, «Иванов Василий Алибабаевич», his two cars and
the open pre-order «ЗН 14029»), so the screens and the search can be tried on what the brochure
shows; the rest of the base is invented around the brochure's staff, contact purposes, statuses
and ignore reasons. Every row carries its id and ``created_at``, both derived from the moment the
row stands for (a registration, a document, a call), so ids are time-ordered and two runs with
the same ``seed`` and ``today`` write the same rows. Only ``random.Random(seed)`` is used: no
global random state and no wall clock.

Domain code: writes through the ``RowWriter`` port only, in batches of ``insert_many``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

from lsnode.crm.clients import person_columns
from lsnode.crm.normalize import (
    name_key,
    normalize_phone,
    normalize_plate,
    normalize_vin,
    short_name,
    vin_check_digit,
)
from lsnode.crm.staff import hash_pin
from lsnode.crm.traffic import IGNORE_REASONS, LOSS_REASONS
from lsnode.ids import seeded_uuid7
from lsnode.store.ports import RowWriter
from lsnode.store.schema import TABLES

__all__ = ["ABC_LETTERS", "DemoSummary", "abc_code", "generate_demo", "inn_ok"]

Row = dict[str, Any]
T = TypeVar("T")

DAY_MS: Final = 86_400_000
_EPOCH_ORDINAL: Final = dt.date(1970, 1, 1).toordinal()
#: The dealer works 09:00–20:00 Moscow time (UTC+3): instants are stored in UTC.
_OPEN_S: Final = 6 * 3600
_CLOSE_S: Final = 17 * 3600
TRAFFIC_CAP: Final = 20_000
MAX_DOCS_PER_CLIENT: Final = 6

# ABC categories (SPEC §6), Cyrillic letters as the brochure shows them («САСА»).
ABC_LETTERS: Final = ("А", "В", "С")
ABC_SUM_A_RUB: Final = 100_001
ABC_SUM_B_RUB: Final = 50_001
ABC_COUNT_A: Final = 6
ABC_COUNT_B: Final = 2
ABC_DAYS_A: Final = 90
ABC_DAYS_B: Final = 180
ABC_AVG_A_PCT: Final = 101  # average check ≥ 1.01 × the line's mean
ABC_AVG_B_PCT: Final = 91


def abc_code(
    sum_kop: int, count: int, days_since_last: int, line_sum_kop: int, line_count: int
) -> str:
    """Four letters — by sum, number, recency and average check — for one client and one line.

    Intervals are half-open where the brochure's table leaves gaps (1,00 < x < 1,01): an average
    check of 1,005 × the mean is B. The sum is compared in whole roubles.
    """
    a, b, c = ABC_LETTERS
    rub = sum_kop // 100
    by_sum = a if rub >= ABC_SUM_A_RUB else b if rub >= ABC_SUM_B_RUB else c
    by_count = a if count >= ABC_COUNT_A else b if count >= ABC_COUNT_B else c
    by_days = a if days_since_last <= ABC_DAYS_A else b if days_since_last <= ABC_DAYS_B else c
    # avg / mean = (sum / count) / (line_sum / line_count), compared without division.
    lhs = 100 * sum_kop * line_count
    rhs = count * line_sum_kop
    if count == 0 or line_sum_kop <= 0:
        by_avg = c
    else:
        by_avg = a if lhs >= ABC_AVG_A_PCT * rhs else b if lhs >= ABC_AVG_B_PCT * rhs else c
    return by_sum + by_count + by_days + by_avg


@dataclass(frozen=True, slots=True)
class DemoSummary:
    counts: dict[str, int]  # rows written per table


# ---------------------------------------------------------------------------------------------
# Reference data


class _Weighted(Generic[T]):
    """Items with weights, picked by one ``rng.random()`` and a bisection."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.items = [item for item, _ in pairs]
        self.cum = list(itertools.accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> T:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


@dataclass(frozen=True, slots=True)
class _Region:
    name: str
    plate_codes: tuple[str, ...]
    inn_prefix: str
    weight: float


_REGIONS: Final = (
    _Region("Москва", ("77", "97", "99", "177", "197", "199", "777", "797", "977"), "77", 44),
    _Region("Московская область", ("50", "90", "150", "190", "750"), "50", 30),
    _Region("Санкт-Петербург", ("78", "98", "178", "198"), "78", 4),
    _Region("Ленинградская область", ("47", "147"), "47", 1),
    _Region("Архангельск и Архангельская область", ("29",), "29", 4),
    _Region("Республика Марий Эл", ("12",), "12", 2),
    _Region("Забайкальский край", ("75",), "75", 1),
    _Region("Тверская область", ("69",), "69", 4),
    _Region("Калужская область", ("40",), "40", 3),
    _Region("Тульская область", ("71",), "71", 3),
    _Region("Владимирская область", ("33",), "33", 2),
    _Region("Ярославская область", ("76",), "76", 2),
)
_ARKHANGELSK: Final = 4

_BRANCHES: Final = (
    ("Кардинал", "Москва, пр. Гагарина, 230"),
    ("Кардинал-Север", "Москва, Ленинградское ш., 14"),
)

#: (name, enabled, weight as a client's first source)
_INFO_SOURCES: Final = (
    ("Интернет", 1, 22),
    ("Сайт дилера", 1, 18),
    ("Рекомендация знакомых", 1, 16),
    ("Повторное обращение", 1, 12),
    ("Авито", 1, 8),
    ("Auto.ru", 1, 7),
    ("Наружная реклама", 1, 6),
    ("Радио", 1, 4),
    ("Проезжал мимо", 1, 5),
    ("Телевидение", 0, 2),
)
_REPEAT_SOURCE: Final = 3
_RECOMMENDATION: Final = 2

_GROUPS: Final = ("Основные контрагенты", "Корпоративные клиенты")


@dataclass(frozen=True, slots=True)
class _Employee:
    surname: str
    given: str
    patronymic: str
    extension: str | None
    role: str
    departments: tuple[str, ...]
    branch: int = 0


# Names and extensions as the brochure shows them; given names and patronymics are invented to
# fit the initials. Аминева shows «---» for her extension: she has none.
_EMPLOYEES: Final = (
    _Employee("Петухов", "Владимир", "Петрович", "1102", "manager", ("salon",)),
    _Employee("Бадовец", "Алексей", "Викторович", "008", "manager", ("salon",)),
    _Employee("Семенчук", "Галина", "Константиновна", "1109", "manager", ("shop",)),
    _Employee("Перязева", "Наталья", "", "005", "secretary", ("feedback", "other")),
    _Employee("Аминева", "Валентина", "Рашидовна", None, "manager", ("salon",)),
    _Employee("Аверкин", "Андрей", "Геннадьевич", "1112", "adviser", ("service",)),
    _Employee("Карницкий", "Сергей", "Михайлович", "1116", "adviser", ("service",)),
    _Employee("Поляков", "Игорь", "Сергеевич", "1106", "adviser", ("service",)),
    _Employee("Валуйский", "Виктор", "Михайлович", "1123", "adviser", ("service",)),
    _Employee("Сардин", "Эдуард", "Викторович", "1113", "adviser", ("service",)),
    _Employee("Бектус", "Елена", "Владимировна", None, "marketing", ("feedback", "other")),
    _Employee(
        "Денщикова", "Анна", "Александровна", None, "secretary", ("other", "feedback", "service")
    ),
    _Employee("Карамов", "Руслан", "Наилевич", None, "adviser", ("service",), 1),
    _Employee("Грушкевич", "Максим", "Сергеевич", None, "manager", ("salon",)),
    _Employee("Димитров", "Александр", "Степанович", None, "adviser", ("service",), 1),
    _Employee("Арутюнян", "Армен", "Фрунзикович", None, "manager", ("salon",)),
    _Employee("Мелентьев", "Алексей", "Николаевич", None, "adviser", ("service",), 1),
    _Employee("Шлыков", "Антон", "Николаевич", None, "manager", ("salon",)),
    _Employee("Швельните", "Наталья", "Станиславовна", None, "manager", ("salon",)),
    _Employee("Юшков", "Сергей", "Анатольевич", None, "manager", ("shop",)),
    _Employee("Радостева", "Анна", "Валерьевна", None, "manager", ("salon",)),
    _Employee("Неверов", "Сергей", "Игоревич", None, "manager", ("salon",), 1),
    _Employee(
        "Матвеев",
        "Андрей",
        "Александрович",
        None,
        "admin",
        ("salon", "service", "shop", "feedback", "other"),
    ),
)
_SECRETARIES: Final = ("Перязева", "Денщикова", "Бектус")
_ADVISERS: Final = tuple(e.surname for e in _EMPLOYEES if e.role == "adviser")
_SALON: Final = (
    "Петухов",
    "Бадовец",
    "Матвеев",
    "Аминева",
    "Грушкевич",
    "Арутюнян",
    "Шлыков",
    "Швельните",
    "Неверов",
    "Радостева",
)
_SHOP: Final = ("Юшков", "Семенчук")
_PRESENCE: Final = _Weighted([("available", 65), ("busy", 20), ("away", 15)])
_PRESENCE_NOTES: Final = {
    "available": ("",),
    "busy": ("", "На тест-драйве с клиентом", "Совещание до 15:00", "Выдача автомобиля"),
    "away": ("В отпуске", "На обеде", "На выезде у клиента", "Обучение в дистрибьюторе"),
}


@dataclass(frozen=True, slots=True)
class _Purpose:
    code: int
    department: str
    direction: str
    full_name: str
    short_name: str
    staff: tuple[str, ...]
    creates: str = ""  # what processing creates: a doc type, "service" (ЗН/Предв.РЗ) or ""
    weight: float = 1.0  # share among its department and direction
    require_car: int = 0
    auto_ignore_days: int | None = None


# The brochure's default set with its visible codes; «Отзыв/претензия» and «Прочее» close it.
_NEW_CAR_STAFF: Final = (
    "Петухов", "Бадовец", "Матвеев", "Аминева", "Грушкевич", "Шлыков", "Швельните", "Арутюнян",
)  # fmt: skip
_S, _O, _I = "salon", "out", "in"
# fmt: off
_PURPOSES: Final = (
    _Purpose(2, "service", _I, "Ремонт автомобиля", "Ремонт", _ADVISERS, "service", 1),
    _Purpose(11, "service", _O, "Подтверждение записи на сервис", "Подтв. записи", _SECRETARIES,
             weight=4),
    _Purpose(7, "service", _O, "Послесервисное анкетирование", "Анкетирование", _SECRETARIES,
             weight=3),
    _Purpose(9, "service", _O, "Предложение визита (сервис)", "Визит (сервис)", _ADVISERS,
             "pre_order", 2),
    _Purpose(15, "service", _O, "Рабочий контакт (сервис)", "Рабочий (сервис)", _ADVISERS),
    _Purpose(21, "shop", _I, "Покупка запасных частей", "Запчасти", _SHOP, "parts_sale"),
    _Purpose(17, "shop", _O, "Рабочий контакт (магазин)", "Рабочий (магазин)", _SHOP),
    _Purpose(1, _S, _I, "Покупка нового автомобиля", "Новый а/м", _NEW_CAR_STAFF, "car_sale", 6,
             require_car=1, auto_ignore_days=7),
    _Purpose(22, _S, _I, "Покупка автомобиля с пробегом", "А/м с пробегом", ("Неверов", "Бадовец"),
             "car_sale", 3),
    _Purpose(24, _S, _I, "Продажа автомобиля (выкуп)", "Выкуп", ("Неверов",)),
    _Purpose(102, _S, _I, "Кредитование/Страхование", "Страхование", ("Радостева",)),
    _Purpose(108, _S, _O, "SCI", "SCI", _SALON, weight=2),
    _Purpose(107, _S, _O, "Обзвон после проведенного тест-драйва", "После тест-драйва", _SALON,
             weight=2),
    _Purpose(106, _S, _O, "Поздравление с Днем Рождения", "День рождения", _SECRETARIES),
    _Purpose(16, _S, _O, "Послепродажный контакт", "Послепродажный", _SALON),
    _Purpose(105, _S, _O, "Предложение визита (салон)", "Визит (салон)", _SALON, "car_sale"),
    _Purpose(14, _S, _O, "Рабочий контакт (салон)", "Рабочий (салон)", _SALON, weight=2),
    _Purpose(8, _S, _O, "Холодный обзвон (салон)", "Холодный обзвон", _SALON, weight=2),
    _Purpose(31, "feedback", _I, "Отзыв/претензия", "Отзыв/претензия", ("Перязева", "Бектус")),
    _Purpose(32, "other", _I, "Прочее", "Прочее", ("Денщикова", "Бектус", "Перязева")),
)
# fmt: on
_DEPARTMENT_WEIGHTS: Final = (
    ("service", 44.0),
    ("salon", 26.0),
    ("shop", 14.0),
    ("feedback", 4.0),
    ("other", 12.0),
)
_LINE_OF_DEPARTMENT: Final = {"service": "service", "shop": "parts", "salon": "sales"}

# ---------------------------------------------------------------------------------------------
# People

#: Given names of men with the patronymics they give their children (male, female).
_FATHERS: Final = (
    ("Александр", "Александрович", "Александровна"),
    ("Алексей", "Алексеевич", "Алексеевна"),
    ("Андрей", "Андреевич", "Андреевна"),
    ("Антон", "Антонович", "Антоновна"),
    ("Артём", "Артёмович", "Артёмовна"),
    ("Борис", "Борисович", "Борисовна"),
    ("Вадим", "Вадимович", "Вадимовна"),
    ("Валерий", "Валерьевич", "Валерьевна"),
    ("Василий", "Васильевич", "Васильевна"),
    ("Виктор", "Викторович", "Викторовна"),
    ("Владимир", "Владимирович", "Владимировна"),
    ("Вячеслав", "Вячеславович", "Вячеславовна"),
    ("Геннадий", "Геннадьевич", "Геннадьевна"),
    ("Георгий", "Георгиевич", "Георгиевна"),
    ("Денис", "Денисович", "Денисовна"),
    ("Дмитрий", "Дмитриевич", "Дмитриевна"),
    ("Евгений", "Евгеньевич", "Евгеньевна"),
    ("Егор", "Егорович", "Егоровна"),
    ("Иван", "Иванович", "Ивановна"),
    ("Игорь", "Игоревич", "Игоревна"),
    ("Илья", "Ильич", "Ильинична"),
    ("Кирилл", "Кириллович", "Кирилловна"),
    ("Константин", "Константинович", "Константиновна"),
    ("Максим", "Максимович", "Максимовна"),
    ("Михаил", "Михайлович", "Михайловна"),
    ("Никита", "Никитич", "Никитична"),
    ("Николай", "Николаевич", "Николаевна"),
    ("Олег", "Олегович", "Олеговна"),
    ("Павел", "Павлович", "Павловна"),
    ("Пётр", "Петрович", "Петровна"),
    ("Роман", "Романович", "Романовна"),
    ("Руслан", "Русланович", "Руслановна"),
    ("Рашид", "Рашидович", "Рашидовна"),
    ("Семён", "Семёнович", "Семёновна"),
    ("Сергей", "Сергеевич", "Сергеевна"),
    ("Станислав", "Станиславович", "Станиславовна"),
    ("Степан", "Степанович", "Степановна"),
    ("Тимур", "Тимурович", "Тимуровна"),
    ("Фёдор", "Фёдорович", "Фёдоровна"),
    ("Юрий", "Юрьевич", "Юрьевна"),
    ("Ярослав", "Ярославович", "Ярославовна"),
)
_MALE_NAMES: Final = tuple(f[0] for f in _FATHERS)
_FEMALE_NAMES: Final = (
    "Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Екатерина",
    "Юлия", "Анастасия", "Марина", "Людмила", "Галина", "Валентина", "Дарья", "Ксения", "Алёна",
    "Виктория", "Полина", "Вера", "Надежда", "Любовь", "Евгения", "Алина", "Софья", "Оксана",
)  # fmt: skip
#: Male forms; female forms are derived by :func:`_female_surname`.
_SURNAMES: Final = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев",
    "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев",
    "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов",
    "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов",
    "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
    "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв",
    "Быков", "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов",
    "Пономарёв", "Голубев", "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлёв",
    "Овчинников", "Трофимов", "Леонов", "Соболев", "Ермаков", "Колесников", "Гончаров",
    "Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов", "Громов",
    "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков",
    "Горбунов", "Анисимов", "Ерёмин", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов",
    "Юдин", "Белоусов", "Нестеров", "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков",
    "Левин", "Воронцов", "Аксёнов", "Мальцев", "Логинов", "Горшков", "Савин", "Краснов",
    "Майоров", "Демидов", "Елисеев", "Рыбаков", "Сафонов", "Плотников", "Хохлов", "Жданов",
    "Вишневский", "Островский", "Покровский", "Заболоцкий", "Завадский", "Каменский",
    "Толстой", "Шевчук", "Ткаченко", "Бондаренко", "Коваленко", "Кравченко", "Мельник",
    "Черных", "Седых", "Ким", "Цой", "Саркисян", "Габидуллин", "Хабибуллин", "Гарипов",
    "Ахметов", "Шарипов", "Лапшин", "Зимин", "Шишкин", "Пушкарёв", "Лагутин", "Хангариус",
)  # fmt: skip
_FEMININE_ENDINGS: Final = (("ский", "ская"), ("цкий", "цкая"), ("ой", "ая"))


def _female_surname(male: str) -> str:
    for end, fem in _FEMININE_ENDINGS:
        if male.endswith(end):
            return male[: -len(end)] + fem
    if male.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return male + "а"
    return male  # Шевчук, Черных, Ким, Саркисян: the same for women


_COMPANY_WORDS: Final = (
    "Альфа", "Вектор", "Север", "Гранит", "Прогресс", "Техно", "Строй", "Мос", "Транс", "Агро",
    "Медиа", "Эко", "Гарант", "Союз", "Волга", "Балт", "Урал", "Стандарт", "Профи", "Лидер",
)  # fmt: skip
_COMPANY_TAILS: Final = (
    "Логистик", "Сервис", "Групп", "Трейд", "Инвест", "Строй", "Авто", "Снаб", "Консалт",
    "Маркет", "Пром", "Энерго", "Текс", "Торг", "Проект",
)  # fmt: skip
_COMPANY_FIXED: Final = (
    "Группа Лоджик Старс", "Молочные заводы", "Северный ветер", "Балтийский берег",
    "Экспресс Доставка", "Инжиниринг Систем", "Городская клиника", "Мосавтоснаб",
)  # fmt: skip
_CLIENT_NOTES: Final = (
    "Постоянный клиент",
    "Предпочитает звонки после 18:00",
    "Не звонить по выходным",
    "Связываться через секретаря",
    "VIP",
    "Просил не присылать рекламу",
)
_DOMAINS: Final = _Weighted(
    [
        ("mail.ru", 30),
        ("yandex.ru", 25),
        ("gmail.com", 18),
        ("bk.ru", 6),
        ("list.ru", 5),
        ("inbox.ru", 5),
        ("rambler.ru", 6),
        ("ya.ru", 5),
    ]
)
_TRANSLIT: Final = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
        "я": "ya", " ": "", "-": "", '"': "",
    }
)  # fmt: skip


def _latin(text: str) -> str:
    return text.lower().translate(_TRANSLIT)


_INN10_WEIGHTS: Final = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS: Final = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS: Final = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _inn_digit(digits: str, weights: Sequence[int]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


def inn_ok(inn: str) -> bool:
    """Whether a 10-digit (company) or 12-digit (person, ИП) INN has correct check digits."""
    if not inn.isdigit():
        return False
    if len(inn) == 10:
        return inn[9] == _inn_digit(inn[:9], _INN10_WEIGHTS)
    if len(inn) == 12:
        return inn[10] == _inn_digit(inn[:10], _INN11_WEIGHTS) and inn[11] == _inn_digit(
            inn[:11], _INN12_WEIGHTS
        )
    return False


# ---------------------------------------------------------------------------------------------
# Cars


@dataclass(frozen=True, slots=True)
class _Generation:
    make: str
    model: str
    chassis: str  # VDS start: Mercedes chassis code / Kia model template
    first: int
    last: int | None
    mods: tuple[str, ...]
    kind: str  # car / suv / van (chooses the WMI)
    price_rub: int  # a new one, roughly


_MB: Final = "Mercedes-Benz"
_GENERATIONS: Final = (
    _Generation(_MB, "E-класс", "211", 2002, 2009, ("E 200 Kompressor", "E 220 CDI", "E 280"),
                "car", 3_500_000),
    _Generation(_MB, "E-класс", "212", 2009, 2016, ("E 200", "E 220 CDI", "E 250",
                "E 350 4MATIC"), "car", 4_500_000),
    _Generation(_MB, "E-класс", "213", 2016, 2023, ("E 200", "E 220 d", "E 300",
                "E 450 4MATIC"), "car", 6_000_000),
    _Generation(_MB, "E-класс", "214", 2023, None, ("E 200", "E 220 d 4MATIC"), "car",
                9_000_000),
    _Generation(_MB, "C-класс", "204", 2007, 2014, ("C 180", "C 200", "C 220 CDI", "C 250"),
                "car", 2_800_000),
    _Generation(_MB, "C-класс", "205", 2014, 2021, ("C 180", "C 200", "C 200 4MATIC",
                "C 220 d"), "car", 3_800_000),
    _Generation(_MB, "C-класс", "206", 2021, None, ("C 180", "C 200", "C 300 4MATIC"), "car",
                6_000_000),
    _Generation(_MB, "GLC", "253", 2015, 2022, ("GLC 250 4MATIC", "GLC 220 d 4MATIC",
                "GLC 300 4MATIC"), "suv", 5_000_000),
    _Generation(_MB, "GLE", "166", 2015, 2019, ("GLE 350 d 4MATIC", "GLE 400 4MATIC"), "suv",
                6_500_000),
    _Generation(_MB, "GLE", "167", 2019, None, ("GLE 300 d 4MATIC", "GLE 350 d 4MATIC",
                "GLE 450 4MATIC"), "suv", 9_500_000),
    _Generation(_MB, "GLS-класс", "166", 2016, 2019, ("GLS 350 d 4MATIC", "GLS 400 4MATIC",
                "GLS 500 4MATIC"), "suv", 8_000_000),
    _Generation(_MB, "GLS-класс", "167", 2019, None, ("GLS 400 d 4MATIC", "GLS 450 4MATIC",
                "GLS 580 4MATIC"), "suv", 13_000_000),
    _Generation(_MB, "S-класс", "222", 2013, 2020, ("S 350 d 4MATIC", "S 450 4MATIC",
                "S 500 4MATIC", "S 560 4MATIC"), "car", 9_000_000),
    _Generation(_MB, "S-класс", "223", 2020, None, ("S 450 4MATIC", "S 500 4MATIC",
                "S 580 4MATIC"), "car", 15_000_000),
    _Generation(_MB, "Vito", "639", 2003, 2014, ("Vito 111 CDI", "Vito 115 CDI"), "van",
                2_000_000),
    _Generation(_MB, "Vito", "447", 2014, None, ("Vito 114 CDI", "Vito 116 CDI",
                "Vito Tourer 119 CDI"), "van", 4_500_000),
    _Generation(_MB, "Sprinter", "906", 2006, 2018, ("Sprinter 313 CDI", "Sprinter 515 CDI",
                "Sprinter Classic 311 CDI"), "van", 2_800_000),
    _Generation(_MB, "Sprinter", "907", 2018, None, ("Sprinter 316 CDI", "Sprinter 319 CDI"),
                "van", 5_500_000),
    _Generation("Kia", "Rio", "CB41", 2011, None, ("1.4 MT Comfort", "1.6 AT Prestige",
                "X-Line 1.6 AT"), "rio", 1_400_000),
    _Generation("Kia", "Ceed", "HN81", 2012, None, ("1.6 AT Luxe", "1.4 T-GDI DCT GT Line"),
                "eu", 1_800_000),
    _Generation("Kia", "Sportage", "PM81", 2010, None, ("2.0 AT Luxe", "2.0 AT 4WD Prestige",
                "2.4 AT 4WD GT Line"), "xwe", 2_600_000),
    _Generation("Kia", "Sorento", "PU81", 2009, None, ("2.4 AT 4WD Luxe",
                "2.2 CRDi AT 4WD Premium", "3.5 AT 4WD Prestige"), "kna", 3_300_000),
)  # fmt: skip
_PLATE_LETTERS: Final = "АВЕКМНОРСТУХ"
_TO_LATIN: Final = str.maketrans(_PLATE_LETTERS, "ABEKMHOPCTYX")
#: ISO 3779 model-year codes, 1980 = A, a 30-year cycle.
_YEAR_CODES: Final = "ABCDEFGHJKLMNPRSTVWXY123456789"
_VIN_SERIAL_LETTERS: Final = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def _year_code(year: int) -> str:
    return _YEAR_CODES[(year - 1980) % 30]


# ---------------------------------------------------------------------------------------------
# Documents and traffic

#: The sign-in PIN of every demo employee.
DEMO_PIN: Final = "1234"
_IGNORE_REASONS: Final = IGNORE_REASONS
_LOSS_REASONS: Final = LOSS_REASONS
_SERVICE_NOTES: Final = (
    "ТО-1",
    "ТО-2",
    "Замена тормозных колодок",
    "Диагностика подвески",
    "Шиномонтаж",
    "Кузовной ремонт",
    "Гарантийный ремонт",
    "Замена масла",
)
_SALE_NOTES: Final = ("Trade-in", "Кредит", "Лизинг", "Наличный расчет")
_TRAFFIC_NOTES: Final = {
    "service": ("Уточнить стоимость ТО", "Стук в подвеске", "Записать на диагностику"),
    "salon": ("Интересуется наличием", "Просит перезвонить после 18:00", "Тест-драйв"),
    "shop": ("Наличие колодок", "Под заказ", "Уточнить цену"),
    "feedback": ("Недоволен сроками ремонта", "Благодарность мастеру", "Долго ждал выдачи"),
    "other": ("Спрашивал адрес", "Реклама", "Звонок из банка"),
}
_OPEN_STATUS_DAYS: Final = {"work_order": 7, "pre_order": 30, "parts_sale": 5, "car_sale": 45}
_ZN_START: Final = 14_030  # the brochure's «ЗН 14029» is number 1's pre-order
_DOC_PREFIX: Final = {
    "work_order": "ЗН",
    "pre_order": "ЗН",
    "parts_sale": "РН",
    "car_sale": "ДКП",
}
_DOC_START: Final = {"ЗН": _ZN_START, "РН": 30_001, "ДКП": 7_701}
_LINE_OF_TYPE: Final = {
    "work_order": "service",
    "pre_order": "service",
    "parts_sale": "parts",
    "car_sale": "sales",
}


# ---------------------------------------------------------------------------------------------
# The generator


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _epoch_day(day: dt.date) -> int:
    return day.toordinal() - _EPOCH_ORDINAL


class _Sink:
    """Per-table buffers written with ``insert_many`` every ``batch`` rows.

    Rows carry their own ``created_at``; where the schema does not (yet) let a write name it,
    it is left to the writer's clock rather than refused.
    """

    def __init__(self, writer: RowWriter, batch: int) -> None:
        self.writer = writer
        self.batch = batch
        self.buffers: dict[str, list[Row]] = {}
        self.counts: dict[str, int] = {t.name: 0 for t in TABLES}
        self.own_created_at = {t.name: "created_at" in t.writable for t in TABLES}

    def add(self, table: str, row: Row) -> None:
        if not self.own_created_at[table]:
            del row["created_at"]
        buf = self.buffers.setdefault(table, [])
        buf.append(row)
        if len(buf) >= self.batch:
            self.flush(table)

    def flush(self, table: str) -> None:
        rows = self.buffers.get(table)
        if rows:
            self.writer.insert_many(table, rows)
            self.counts[table] += len(rows)
            self.buffers[table] = []

    def flush_all(self) -> None:
        for table in list(self.buffers):
            self.flush(table)


@dataclass(slots=True)
class _Car:
    row: Row
    label: str  # «Mercedes-Benz C 220 CDI»
    ms: int  # when the dealer first saw it: the owner's registration, or when it was new


def _cars_by(cars: list[_Car], ms: int) -> list[_Car]:
    return [car for car in cars if car.ms <= ms]


@dataclass(slots=True)
class _Doc:
    ms: int
    day: int
    line: str
    row: Row


@dataclass(slots=True)
class _Event:
    ms: int
    purpose: _Purpose
    first: bool = False
    status: str = ""
    car: _Car | None = None
    doc: _Doc | None = None


@dataclass(slots=True)
class _LineAgg:
    sum_kop: int = 0
    count: int = 0
    last_day: int = -(10**9)
    first_ms: int = 1 << 62
    has_open: bool = False
    completed: bool = False


@dataclass(slots=True)
class _Client:
    index: int
    id: str
    reg_ms: int
    kind: str = "person"
    region: int = 0
    source: int = 0
    created: str = ""  # ``reg_ms`` as ISO 8601, shared by the client's contacts
    phone: str = ""
    phone_e164: str | None = None
    cars: list[_Car] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Fixed:
    """A client the brochure shows by name (and phone)."""

    surname: str
    given: str
    patronymic: str
    phones: tuple[str, ...]


_BROCHURE_CLIENTS: Final = (
    _Fixed("Иванов", "Василий", "Алибабаевич", ("8(925)111-22-33",)),
    _Fixed("", "Василий", "Алибабаевич", ("2(323)232-32-32",)),
    _Fixed("Петров", "Пётр", "Васильевич", ("+7 916 450-12-87",)),
    _Fixed("Иванов", "Иван", "Иванович", ("84951234567",)),
)
_IVANOV_PHONE_NATIONAL: Final = "9251112233"
_MOBILE_CODES: Final = (
    "903", "905", "906", "909", "910", "911", "915", "916", "917", "919", "921", "925", "926",
    "929", "964", "965", "968", "977", "985", "999",
)  # fmt: skip
_MOSCOW_CODES: Final = ("495", "499")


class _Demo:
    def __init__(self, writer: RowWriter, *, seed: int, today: dt.date, batch: int) -> None:
        self.rng = random.Random(seed)
        self.new_id = seeded_uuid7(random.Random(f"lsnode-demo-ids:{seed}"))
        self.sink = _Sink(writer, batch)
        self.today = today
        self.today_day = _epoch_day(today)
        self.year_ago_day = self.today_day - 364
        self.window_day = _epoch_day(_years_before(today, 3))
        self.ten_years_day = _epoch_day(_years_before(today, 10))
        self.ivanov_day = min(_epoch_day(dt.date(2014, 8, 28)), self.ten_years_day)
        self.ref_ms = (self.ivanov_day - 30) * DAY_MS + _OPEN_S * 1000
        self._day_text: dict[int, str] = {}
        self.region_ids: list[str] = []
        self.branch_ids: list[str] = []
        self.source_ids: list[str] = []
        self.group_ids: list[str] = []
        self.emp: dict[str, str] = {}
        self.purpose_ids: dict[int, str] = {}
        self.client_ids: list[str] = []
        self.docs: list[_Doc] = []
        self.traffic: list[tuple[int, Row]] = []
        self.switches: list[tuple[int, Row]] = []
        self.lines: list[tuple[str, str, _LineAgg, str]] = []  # client, line, sums, override
        self.line_sum = dict.fromkeys(("service", "parts", "sales"), 0)
        self.line_count = dict.fromkeys(("service", "parts", "sales"), 0)
        self.plate_keys: set[str] = set()
        self.vins: set[str] = set()
        self.car_number = 0
        self.region_pick = _Weighted([(i, r.weight) for i, r in enumerate(_REGIONS)])
        self.source_pick = _Weighted([(i, float(s[2])) for i, s in enumerate(_INFO_SOURCES)])
        keys = dict.fromkeys((p.department, p.direction) for p in _PURPOSES)
        self.purpose_pick = {
            key: _Weighted([(p, p.weight) for p in _PURPOSES if (p.department, p.direction) == key])
            for key in keys
        }
        self.first_p = 0.0  # chance that a client registered in the last year came by traffic
        self.lam = 0.0  # further traffic rows per client
        self.today_q = 0.0  # chance that one of them is today's
        self.department_pick = _Weighted(list(_DEPARTMENT_WEIGHTS))
        year = today.year
        self.generations = [g for g in _GENERATIONS if g.first <= year]
        self.mb_pick = _Weighted(
            [(g, _gen_weight(g, year)) for g in self.generations if g.make == _MB]
        )
        self.kia_pick = _Weighted(
            [(g, _gen_weight(g, year)) for g in self.generations if g.make != _MB]
        )
        self.van_pick = _Weighted(
            [(g, _gen_weight(g, year)) for g in self.generations if g.kind == "van"]
        )

    # -- time -------------------------------------------------------------------------------

    def day_text(self, day: int) -> str:
        text = self._day_text.get(day)
        if text is None:
            text = dt.date.fromordinal(day + _EPOCH_ORDINAL).isoformat()
            self._day_text[day] = text
        return text

    def iso(self, ms: int) -> str:
        day, rest = divmod(ms, DAY_MS)
        s, milli = divmod(rest, 1000)
        return f"{self.day_text(day)}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{milli:03d}Z"

    def work_ms(self, day: int) -> int:
        return day * DAY_MS + _rr(self.rng, _OPEN_S, _CLOSE_S) * 1000

    # -- reference data ---------------------------------------------------------------------

    def ref_row(self, table: str, n: int, values: Row) -> str:
        ms = self.ref_ms + n * 1000
        rid = self.new_id(ms)
        self.sink.add(table, {"id": rid, "created_at": self.iso(ms), **values})
        return rid

    def reference(self) -> None:
        rng = self.rng
        # Every demo employee signs in with DEMO_PIN (the README says so); one hash, fixed salt,
        # so the demo stays the same for the same seed.
        self.pin_hash = hash_pin(DEMO_PIN, salt=b"lsavto-demo-pin!")
        for n, region in enumerate(_REGIONS):
            self.region_ids.append(self.ref_row("regions", n, {"name": region.name}))
        for n, (name, address) in enumerate(_BRANCHES):
            self.branch_ids.append(
                self.ref_row(
                    "branches",
                    n,
                    {"name": name, "address": address, "region_id": self.region_ids[0]},
                )
            )
        for n, (name, enabled, _) in enumerate(_INFO_SOURCES):
            self.source_ids.append(
                self.ref_row("info_sources", n, {"name": name, "enabled": enabled})
            )
        for n, name in enumerate(_GROUPS):
            self.group_ids.append(self.ref_row("counterparty_groups", n, {"name": name}))
        for n, e in enumerate(_EMPLOYEES):
            presence = _PRESENCE.pick(rng)
            self.emp[e.surname] = self.ref_row(
                "employees",
                n,
                {
                    "short_name": short_name(e.surname, e.given, e.patronymic),
                    "surname": e.surname,
                    "given_name": e.given,
                    "patronymic": e.patronymic,
                    "extension": e.extension,
                    "departments": json.dumps(list(e.departments)),
                    "role": e.role,
                    "pin_hash": self.pin_hash,
                    "presence": presence,
                    "presence_note": _ch(rng, _PRESENCE_NOTES[presence]),
                    "branch_id": self.branch_ids[e.branch],
                    "active": 1,
                },
            )
        for n, p in enumerate(_PURPOSES):
            self.purpose_ids[p.code] = self.ref_row(
                "contact_purposes",
                n,
                {
                    "code": p.code,
                    "department": p.department,
                    "direction": p.direction,
                    "full_name": p.full_name,
                    "short_name": p.short_name,
                    "enabled": 1,
                    "require_car": p.require_car,
                    "require_region": 0,
                    "auto_ignore_days": p.auto_ignore_days,
                    "use_timesheet": 0,
                    "employee_ids": json.dumps([self.emp[s] for s in p.staff]),
                },
            )

    # -- clients ----------------------------------------------------------------------------

    def run(self, clients: int) -> None:
        rng = self.rng
        self.reference()
        days = [_rint(rng, self.ten_years_day, self.today_day) for _ in range(clients - 1)]
        reg = sorted(self.work_ms(day) for day in days)
        if clients:
            reg.insert(0, self.ivanov_day * DAY_MS + 7 * 3600 * 1000 + 12 * 60 * 1000)
        target = min(clients, TRAFFIC_CAP)
        per_client = 0.8 * target
        recent = sum(1 for ms in reg if ms // DAY_MS >= self.year_ago_day)
        self.first_p = min(1.0, 0.35 * per_client / max(1, recent))
        self.lam = max(0.0, per_client - self.first_p * recent) / max(1, clients)
        self.today_q = min(0.5, max(3, target // 300) / max(1.0, per_client))
        for index, reg_ms in enumerate(reg):
            self.client(index, reg_ms)
        self.anonymous_traffic(round(0.2 * target))
        self.write_documents()
        self.write_lines()
        self.write_traffic()
        self.sink.flush_all()

    def client(self, index: int, reg_ms: int) -> None:
        rng = self.rng
        cid = self.new_id(reg_ms)
        c = _Client(index, cid, reg_ms, created=self.iso(reg_ms))
        fixed = _BROCHURE_CLIENTS[index] if index < len(_BROCHURE_CLIENTS) else None
        ivanov = index == 0
        c.kind = "company" if fixed is None and rng.random() < 0.1 else "person"
        c.region = _ARKHANGELSK if ivanov else self.region_pick.pick(rng)
        c.source = _RECOMMENDATION if ivanov else self.source_pick.pick(rng)
        row: Row = {
            "id": cid,
            "created_at": c.created,
            "number": index + 1,
            "kind": c.kind,
            **self.names(c, fixed),
            "registered_at": self.day_text(reg_ms // DAY_MS),
            "info_source_id": self.source_ids[c.source],
            "region_id": self.region_ids[c.region],
            "manager_id": self.emp[_ch(rng, _SALON)] if rng.random() < 0.25 else None,
            "note": _ch(rng, _CLIENT_NOTES) if rng.random() < 0.05 and not fixed else "",
        }
        if ivanov:
            row["manager_id"] = None
        row.update(self.consents(c.kind, ivanov))
        if c.kind == "person" and rng.random() < 0.6 and not ivanov:
            age_days = _rint(rng, 20 * 365, 75 * 365)
            row["birth_date"] = self.day_text(self.today_day - age_days)
        else:
            row["birth_date"] = None
        self.contacts(c, row, fixed)
        if ivanov:
            self.ivanov_cars(c)
        else:
            for _ in range(_weighted_count(rng, (5, 52, 30, 10, 3))):
                self.car(c)
        events = self.ivanov_events(c) if ivanov else self.plan_events(c)
        docs = self.ivanov_docs(c, events) if ivanov else self.documents(c, events)
        self.resolve_events(c, events, docs)
        last = {"in": 0, "out": 0}
        for ev in events:
            last[ev.purpose.direction] = max(last[ev.purpose.direction], ev.ms)
        row["last_in_contact_at"] = self.iso(last["in"]) if last["in"] else None
        row["last_out_contact_at"] = self.iso(last["out"]) if last["out"] else None
        self.aggregate(c, docs, ivanov)
        self.client_ids.append(cid)
        self.sink.add("counterparties", row)

    def names(self, c: _Client, fixed: _Fixed | None) -> Row:
        rng = self.rng
        if c.kind == "company":
            return self.company_names(c)
        if fixed is not None:
            surname, given, patronymic = fixed.surname, fixed.given, fixed.patronymic
        else:
            male = rng.random() < 0.62
            father = _ch(rng, _FATHERS)
            surname = _ch(rng, _SURNAMES)
            if male:
                given, patronymic = _ch(rng, _MALE_NAMES), father[1]
            else:
                surname = _female_surname(surname)
                given, patronymic = _ch(rng, _FEMALE_NAMES), father[2]
            if rng.random() < 0.02:
                patronymic = ""
        return {
            **person_columns(surname, given, patronymic),
            "group_id": self.group_ids[0],
            "inn": None,
        }

    def company_names(self, c: _Client) -> Row:
        rng = self.rng
        form = _weighted_choice(rng, (("ООО", 70), ("АО", 10), ("ИП", 20)))
        region = _REGIONS[c.region]
        if form == "ИП":
            male = rng.random() < 0.75
            father = _ch(rng, _FATHERS)
            surname = _ch(rng, _SURNAMES)
            if male:
                person = f"{surname} {_ch(rng, _MALE_NAMES)} {father[1]}"
            else:
                person = f"{_female_surname(surname)} {_ch(rng, _FEMALE_NAMES)} {father[2]}"
            full = f"ИП {person}"
            # An individual entrepreneur is taxed as a person: a 12-digit INN.
            body = region.inn_prefix + f"{_rint(rng, 1, 51):02d}{_rr(rng, 10**6):06d}"
            body += _inn_digit(body, _INN11_WEIGHTS)
            inn = body + _inn_digit(body, _INN12_WEIGHTS)
        else:
            if rng.random() < 0.1:
                core = _ch(rng, _COMPANY_FIXED)
            else:
                sep = "-" if rng.random() < 0.3 else ""
                core = _ch(rng, _COMPANY_WORDS) + sep + _ch(rng, _COMPANY_TAILS)
            full = f'{form} "{core}"'
            body = region.inn_prefix + f"{_rint(rng, 1, 51):02d}{_rr(rng, 10**5):05d}"
            inn = body + _inn_digit(body, _INN10_WEIGHTS)
        return {
            "surname": "",
            "given_name": "",
            "patronymic": "",
            "company_name": full,
            "full_name": full,
            "short_name": full,
            "name_key": name_key(full),
            "group_id": self.group_ids[1 if rng.random() < 0.85 else 0],
            "inn": inn,
        }

    def consents(self, kind: str, ivanov: bool) -> Row:
        rng = self.rng
        if ivanov:
            return dict.fromkeys(
                ("consent_pd", "consent_phone_survey", "consent_sms", "consent_email"), "unknown"
            )
        if kind == "company":
            weights = ((0.3, 0.65), (0.15, 0.8), (0.2, 0.75), (0.25, 0.7))
        else:
            weights = ((0.6, 0.9), (0.4, 0.85), (0.45, 0.85), (0.3, 0.85))
        out: Row = {}
        for col, (yes, not_no) in zip(
            ("consent_pd", "consent_phone_survey", "consent_sms", "consent_email"),
            weights,
            strict=True,
        ):
            r = rng.random()
            out[col] = "yes" if r < yes else "unknown" if r < not_no else "no"
        return out

    # -- contacts ---------------------------------------------------------------------------

    def contacts(self, c: _Client, row: Row, fixed: _Fixed | None) -> None:
        rng = self.rng
        if fixed is not None:
            typed = list(fixed.phones)
        else:
            typed = [self.typed_phone(mobile=rng.random() < (0.4 if c.kind == "company" else 0.95))]
            if rng.random() < 0.3:
                typed.append(self.typed_phone(mobile=rng.random() < 0.5))
        ms = c.reg_ms
        for n, raw in enumerate(typed):
            phone = normalize_phone(raw)
            if n == 0:
                c.phone, c.phone_e164 = raw, phone.e164
            note = f"доб. {phone.extension}" if phone.extension else ""
            if n and not note:
                note = _ch(rng, ("рабочий", "домашний", "жена", "муж", "секретарь", ""))
            self.sink.add(
                "contacts",
                {
                    "id": self.new_id(ms),
                    "created_at": c.created,
                    "counterparty_id": c.id,
                    "kind": "phone",
                    "value": raw,
                    "phone_e164": phone.e164,
                    "phone_rev": phone.reversed_digits or None,
                    "email_key": None,
                    "valid": int(phone.valid),
                    "note": note,
                },
            )
        if fixed is None and rng.random() < (0.8 if c.kind == "company" else 0.5):
            email = self.email(c, row)
            self.sink.add(
                "contacts",
                {
                    "id": self.new_id(ms),
                    "created_at": c.created,
                    "counterparty_id": c.id,
                    "kind": "email",
                    "value": email,
                    "phone_e164": None,
                    "phone_rev": None,
                    "email_key": email.casefold(),
                    "valid": 1,
                    "note": "",
                },
            )

    def typed_phone(self, *, mobile: bool) -> str:
        """A phone as a person types it; now and then one that cannot be a number at all."""
        rng = self.rng
        if rng.random() < 0.015:
            return self.garbage_phone()
        code = _ch(rng, _MOBILE_CODES if mobile else _MOSCOW_CODES)
        while True:
            sub = f"{_rr(rng, 2_000_000, 10_000_000)}"
            if code + sub != _IVANOV_PHONE_NATIONAL:
                break
        a, b, d = sub[:3], sub[3:5], sub[5:]
        style = _rr(rng, 7)
        if style == 0:
            text = f"8({code}){a}-{b}-{d}"
        elif style == 1:
            text = f"+7 {code} {a}-{b}-{d}"
        elif style == 2:
            text = f"8{code}{sub}"
        elif style == 3:
            text = f"+7 ({code}) {a}-{b}-{d}"
        elif style == 4:
            text = f"8 {code} {a} {b} {d}"
        elif style == 5:
            text = f"+7{code}{sub}"
        else:
            text = f"8-{code}-{a}-{b}-{d}"
        if not mobile and rng.random() < 0.25:
            text += f" доб. {_rint(rng, 100, 499)}"
        return text

    def garbage_phone(self) -> str:
        rng = self.rng
        digits = "".join(str(_rr(rng, 10)) for _ in range(10))
        return _ch(
            rng,
            (
                f"{_rint(rng, 2, 6)}({digits[:3]}){digits[3:6]}-{digits[6:8]}-{digits[8:]}",
                f"8({digits[:3]}){digits[3:6]}-{digits[6:8]}",
                f"{digits[:3]}-{digits[3:5]}",
                "нет",
            ),
        )

    def email(self, c: _Client, row: Row) -> str:
        rng = self.rng
        if c.kind == "company":
            core = row["full_name"].split(" ", 1)[1]
            slug = "".join(ch for ch in _latin(core) if ch.isalnum())[:20] or "firma"
            box = _ch(rng, ("info", "office", "zakaz", "buh", "director"))
            return f"{box}@{slug}.ru"
        sur, given = _latin(row["surname"]), _latin(row["given_name"])
        domain = _DOMAINS.pick(rng)
        style = _rr(rng, 4)
        if style == 0:
            local = f"{sur}.{given[:1]}"
        elif style == 1:
            local = f"{given}.{sur}{_rint(rng, 60, 99)}"
        elif style == 2:
            local = f"{sur}{_rint(rng, 1, 999)}"
        else:
            local = f"{given[:1]}{sur}"
        text = f"{local}@{domain}"
        if rng.random() < 0.15:
            text = text[:1].upper() + text[1:]
        return text

    # -- cars -------------------------------------------------------------------------------

    def car(self, c: _Client) -> None:
        rng = self.rng
        year_now = self.today.year
        if c.kind == "company" and rng.random() < 0.5:
            gen = self.van_pick.pick(rng)
        elif rng.random() < 0.65:
            gen = self.mb_pick.pick(rng)
        else:
            gen = self.kia_pick.pick(rng)
        last = min(gen.last or year_now, year_now)
        year = _rint(rng, gen.first, last)
        mod = _ch(rng, gen.mods)
        age = year_now - year
        factor = 1.6 if gen.kind == "van" else 1.0
        mileage = (
            _rint(rng, 5, 3000)
            if age <= 0
            else min(600_000, int(age * rng.uniform(8000, 22000) * factor))
        )
        if age <= 6 or rng.random() < 0.4:
            start = _epoch_day(dt.date(year, 1, 15))
            warranty: str | None = self.day_text(min(self.today_day, start + _rr(rng, 0, 500)))
        else:
            warranty = None
        plate_raw = self.plate(c) if rng.random() < 0.93 else ""
        vin = self.vin(gen, year) if rng.random() < 0.97 else ""
        owner_role = c.kind == "company" and rng.random() < 0.2
        other = self.client_ids[_rr(rng, len(self.client_ids))] if self.client_ids else None
        self.add_car(
            c,
            plate_raw=plate_raw,
            vin_raw=vin,
            year=year,
            make=gen.make,
            model=gen.model,
            modification=mod,
            mileage=mileage,
            warranty=warranty,
            customer_id=other if owner_role else None,
            trusted_id=other if not owner_role and rng.random() < 0.04 else None,
        )

    def add_car(
        self,
        c: _Client,
        *,
        plate_raw: str,
        vin_raw: str,
        year: int,
        make: str,
        model: str,
        modification: str,
        mileage: int,
        warranty: str | None,
        customer_id: str | None = None,
        trusted_id: str | None = None,
        note: str = "",
    ) -> None:
        plate = normalize_plate(plate_raw) if plate_raw else None
        vin = normalize_vin(vin_raw) if vin_raw else None
        ms = c.reg_ms + (len(c.cars) + 1) * 60_000
        new_day = _epoch_day(dt.date(year, 1, 15)) + _rr(self.rng, 300)
        if new_day > ms // DAY_MS:  # bought new after its owner became a client
            ms = self.work_ms(min(new_day, self.today_day))
        self.car_number += 1
        row: Row = {
            "id": self.new_id(ms),
            "created_at": self.iso(ms),
            "number": self.car_number,
            "plate": plate.display if plate else "",
            "plate_key": plate.key if plate else "",
            "vin": vin.value if vin else "",
            "year": year,
            "make": make,
            "model": model,
            "modification": modification,
            "mileage": mileage,
            "warranty_start": warranty,
            "note": note,
            "owner_id": c.id,
            "customer_id": customer_id,
            "trusted_person_id": trusted_id,
        }
        label = f"{make} {modification}" if make == _MB else f"{make} {model} {modification}"
        c.cars.append(_Car(row, label, ms))
        self.sink.add("cars", row)

    def plate(self, c: _Client) -> str:
        rng = self.rng
        codes = _REGIONS[c.region].plate_codes
        if rng.random() < 0.15:
            codes = _REGIONS[self.region_pick.pick(rng)].plate_codes
        for _ in range(20):
            letters = "".join(_ch(rng, _PLATE_LETTERS) for _ in range(3))
            display = f"{letters[0]}{_rint(rng, 1, 999):03d}{letters[1:]}{_ch(rng, codes)}"
            key = display.translate(_TO_LATIN)
            if key not in self.plate_keys:
                break
        self.plate_keys.add(key)
        style = rng.random()
        if style < 0.7:
            return display
        if style < 0.9:
            return key  # typed on a Latin keyboard, like the brochure's «H433AP12»
        return f"{display[0]} {display[1:4]} {display[4:6]} {display[6:]}".lower()

    def vin(self, gen: _Generation, year: int) -> str:
        rng = self.rng
        for _ in range(20):
            serial = f"{_rr(rng, 10**6):06d}"
            if gen.make == _MB:
                if gen.kind == "van":
                    wmi = "W1V" if year >= 2019 else "WDF" if gen.model == "Vito" else "WDB"
                elif gen.kind == "suv":
                    wmi = "W1N" if year >= 2019 else "WDC"
                else:
                    wmi = "W1K" if year >= 2019 else "WDD" if year >= 2003 else "WDB"
                body = f"{wmi}{gen.chassis}{_rr(rng, 100):02d}{_rr(rng, 10)}"
                body += _ch(rng, "12") + _ch(rng, "AFXN") + serial
            else:
                wmi = {"rio": "Z94", "eu": "U5Y", "xwe": "XWE", "kna": "KNA"}[gen.kind]
                if gen.kind == "eu" and rng.random() < 0.4:
                    wmi = "XWE"  # Ceed assembled at Avtotor
                plant = {"Z94": "R", "U5Y": "7", "XWE": "X", "KNA": "5"}[wmi]
                tail = _ch(rng, _VIN_SERIAL_LETTERS[:8])
                body = f"{wmi}{gen.chassis}{tail}{_rr(rng, 10)}{_year_code(year)}"
                body += plant + serial
            if rng.random() < 0.5:
                body = body[:8] + vin_check_digit(body) + body[9:]
            if body not in self.vins:
                break
        self.vins.add(body)
        return body.lower() if rng.random() < 0.05 else body

    def ivanov_cars(self, c: _Client) -> None:
        self.add_car(
            c,
            plate_raw="H433AP12",
            vin_raw="",
            year=2010,
            make=_MB,
            model="E-класс",
            modification="E 220 CDI",
            mileage=10_000,
            warranty=None,
        )
        self.add_car(
            c,
            plate_raw="H542BY75",
            vin_raw="WDD2040021A261853",
            year=2008,
            make=_MB,
            model="C-класс",
            modification="C 220 CDI",
            mileage=136_504,
            warranty="2009-04-08",
        )
        for car in c.cars:
            self.plate_keys.add(car.row["plate_key"])
            if car.row["vin"]:
                self.vins.add(car.row["vin"])

    # -- traffic of one client --------------------------------------------------------------

    def plan_events(self, c: _Client) -> list[_Event]:
        rng = self.rng
        reg_day = c.reg_ms // DAY_MS
        events: list[_Event] = []
        if reg_day >= self.year_ago_day and rng.random() < self.first_p:
            dept = self.department_pick.pick(rng)
            if dept in ("feedback", "other"):
                dept = "salon"
            ms = max(reg_day * DAY_MS + _OPEN_S * 1000, c.reg_ms - _rint(rng, 60, 900) * 1000)
            events.append(_Event(ms, self.purpose_pick[dept, "in"].pick(rng), first=True))
        whole = math.floor(self.lam)
        n = whole + (1 if rng.random() < self.lam - whole else 0)
        lo = max(reg_day, self.year_ago_day)
        for _ in range(n):
            day = self.today_day if rng.random() < self.today_q else _rint(rng, lo, self.today_day)
            ms = self.work_ms(day)
            if ms <= c.reg_ms:
                continue  # before the client existed
            dept = self.department_pick.pick(rng)
            direction = (
                "out" if rng.random() < 0.2 and dept in ("service", "salon", "shop") else "in"
            )
            events.append(_Event(ms, self.purpose_pick[dept, direction].pick(rng)))
        events.sort(key=lambda e: e.ms)
        for ev in events:
            ev.status = self.intended_status(ev)
        return events

    def intended_status(self, ev: _Event) -> str:
        rng = self.rng
        r = rng.random()
        if ev.ms // DAY_MS >= self.today_day:
            if r < 0.45:
                return "new"
            if r < 0.75:
                return "in_work"
            r = rng.random()
        p = ev.purpose
        choices: tuple[tuple[str, float], ...]
        if p.creates:
            choices = (
                ("document_created", 0.45),
                ("document_attached", 0.65),
                ("ignored", 0.9),
                ("lost" if p.direction == "in" else "ignored", 0.95),
            )
        elif p.department == "other":
            choices = (("ignored", 0.85), ("lost", 0.95))
        else:
            choices = (("document_attached", 0.5), ("ignored", 0.95))
        for status, bound in choices:
            if r < bound:
                return status
        return "in_work"

    # -- documents --------------------------------------------------------------------------

    def documents(self, c: _Client, events: list[_Event]) -> list[_Doc]:
        rng = self.rng
        docs: list[_Doc] = []
        created = 0
        for ev in events:
            if ev.status == "document_created":
                if created >= MAX_DOCS_PER_CLIENT:
                    ev.status = "document_attached"
                    continue
                created += 1
                kind = ev.purpose.creates
                if kind == "service":
                    kind = "work_order" if rng.random() < 0.6 else "pre_order"
                ev.doc = self.document(c, kind, ev.ms + _rint(rng, 2, 120) * 60_000, ev.car)
                docs.append(ev.doc)
        k = min(_weighted_count(rng, (22, 25, 20, 13, 10, 6, 4)), MAX_DOCS_PER_CLIENT - created)
        lo = max(c.reg_ms // DAY_MS, self.window_day)
        if c.kind == "company":
            lines = _Weighted([("service", 60.0), ("parts", 30.0), ("sales", 10.0)])
        elif c.cars:
            lines = _Weighted([("service", 72.0), ("parts", 20.0), ("sales", 8.0)])
        else:
            lines = _Weighted([("parts", 70.0), ("sales", 30.0)])
        for _ in range(k):
            line = lines.pick(rng)
            if line == "service":
                kind = "work_order" if rng.random() < 0.85 else "pre_order"
            else:
                kind = "parts_sale" if line == "parts" else "car_sale"
            ms = self.work_ms(_rint(rng, lo, self.today_day))
            if ms < c.reg_ms:
                ms = c.reg_ms + 1000
            docs.append(self.document(c, kind, ms, None))
        docs.sort(key=lambda d: d.ms)
        return docs

    def document(self, c: _Client, kind: str, ms: int, car: _Car | None) -> _Doc:
        rng = self.rng
        day = ms // DAY_MS
        age = self.today_day - day
        line = _LINE_OF_TYPE[kind]
        cars = _cars_by(c.cars, ms) if car is None else []
        if cars and (line != "parts" or rng.random() < 0.5):
            if line == "sales":
                car = max(cars, key=lambda x: (x.row["year"], x.row["number"]))
            else:
                car = _ch(rng, cars)
        if kind == "work_order":
            amount = _money(rng, 14_000, 0.9, 800, 900_000)
            status = "В работе" if age <= 7 and rng.random() < 0.6 else "Закрыт"
            if status == "Закрыт" and rng.random() < 0.1:
                status = "Оплачен"
            staff = _ADVISERS
            note = _ch(rng, _SERVICE_NOTES) if rng.random() < 0.3 else ""
        elif kind == "pre_order":
            amount = _money(rng, 6_000, 0.9, 300, 300_000)
            if age <= _OPEN_STATUS_DAYS[kind]:
                status = "Предв.РЗ"
            else:
                status = "Отменен" if rng.random() < 0.2 else "Закрыт"
            staff = _ADVISERS
            note = _ch(rng, _SERVICE_NOTES) if rng.random() < 0.3 else ""
        elif kind == "parts_sale":
            amount = _money(rng, 5_500, 1.0, 150, 400_000)
            status = "Резерв" if age <= 5 and rng.random() < 0.5 else "Оплачен"
            staff = _SHOP
            note = "Резерв под заказ" if status == "Резерв" else ""
        else:
            price = 5_500_000 if car is None else _price_of(car, rng)
            amount = int(price * rng.uniform(0.85, 1.1)) // 1000 * 1000 * 100
            if age <= _OPEN_STATUS_DAYS[kind]:
                status = "Договор" if rng.random() < 0.5 else "Оплачен"
            else:
                status = "Выдан"
            staff = _SALON
            note = _ch(rng, _SALE_NOTES) if rng.random() < 0.4 else ""
        is_open = status in ("В работе", "Предв.РЗ", "Резерв", "Договор") or (
            kind == "car_sale" and status == "Оплачен"
        )
        row: Row = {
            "id": self.new_id(ms),
            "created_at": self.iso(ms),
            "doc_no": "",
            "doc_type": kind,
            "business_line": line,
            "doc_date": self.day_text(day),
            "amount_kop": amount,
            "status": status,
            "is_open": int(is_open),
            "employee_id": self.emp[_ch(rng, staff)],
            "counterparty_id": c.id,
            "car_id": car.row["id"] if car else None,
            "note": note,
        }
        doc = _Doc(ms, day, line, row)
        self.docs.append(doc)
        return doc

    def ivanov_events(self, c: _Client) -> list[_Event]:
        repair = next(p for p in _PURPOSES if p.code == 2)
        first_day = self.today_day - 339  # the brochure: 13.01.2017 seen on 18.12.2017
        pre = _Event(first_day * DAY_MS + 8 * 3600_000, repair, status="document_created")
        pre.car = c.cars[1]
        now = _Event(self.today_day * DAY_MS + 11 * 3600_000 + 52 * 60_000, repair, status="new")
        now.car = c.cars[1]
        return [pre, now]

    def ivanov_docs(self, c: _Client, events: list[_Event]) -> list[_Doc]:
        e220, c220 = c.cars
        advisers = (self.emp["Сардин"], self.emp["Карамов"])
        shop = self.emp["Юшков"]
        specs: list[tuple[int, str, str, int, str, str | None, _Car | None]] = [
            (700, "work_order", "Закрыт", 1_845_000, "ТО-2", advisers[0], e220),
            (610, "parts_sale", "Оплачен", 234_000, "", shop, None),
            (520, "work_order", "Закрыт", 3_120_050, "Замена тормозных колодок", advisers[1], c220),
        ]
        docs: list[_Doc] = []
        for age, kind, status, amount, note, employee, car in specs:
            day = max(self.today_day - age, self.window_day)
            ms = day * DAY_MS + 9 * 3600_000
            docs.append(self.fixed_doc(c, ms, kind, status, amount, note, employee, car, ""))
        pre = events[0]
        ms = pre.ms + 25 * 60_000
        pre.doc = self.fixed_doc(c, ms, "pre_order", "Предв.РЗ", 27_089, "", None, c220, "ЗН 14029")
        docs.append(pre.doc)
        docs.sort(key=lambda d: d.ms)
        return docs

    def fixed_doc(
        self,
        c: _Client,
        ms: int,
        kind: str,
        status: str,
        amount: int,
        note: str,
        employee: str | None,
        car: _Car | None,
        doc_no: str,
    ) -> _Doc:
        day = ms // DAY_MS
        row: Row = {
            "id": self.new_id(ms),
            "created_at": self.iso(ms),
            "doc_no": doc_no,
            "doc_type": kind,
            "business_line": _LINE_OF_TYPE[kind],
            "doc_date": self.day_text(day),
            "amount_kop": amount,
            "status": status,
            "is_open": int(status == "Предв.РЗ"),
            "employee_id": employee,
            "counterparty_id": c.id,
            "car_id": car.row["id"] if car else None,
            "note": note,
        }
        doc = _Doc(ms, day, _LINE_OF_TYPE[kind], row)
        self.docs.append(doc)
        return doc

    def resolve_events(self, c: _Client, events: list[_Event], docs: list[_Doc]) -> None:
        """Attach events to documents and turn each into a traffic row (and its switches)."""
        rng = self.rng
        for ev in events:
            p = ev.purpose
            if ev.status == "document_attached":
                line = _LINE_OF_DEPARTMENT.get(p.department)
                earlier = [d for d in docs if d.ms <= ev.ms and (line is None or d.line == line)]
                if earlier and p.department != "other":
                    ev.doc = earlier[-1]
                else:
                    ev.status = "ignored"
            if ev.car is None and ev.doc is not None:
                car_id = ev.doc.row["car_id"]
                ev.car = next((car for car in c.cars if car.row["id"] == car_id), None)
            elif ev.car is None and p.department in ("service", "shop"):
                cars = _cars_by(c.cars, ev.ms)
                ev.car = _ch(rng, cars) if cars else None
            self.traffic_row(c, ev)

    def traffic_row(self, c: _Client | None, ev: _Event) -> None:
        rng = self.rng
        p = ev.purpose
        status = ev.status
        if p.direction == "out":
            contact_type = "call" if rng.random() < 0.95 else "internet"
        else:
            contact_type = _weighted_choice(rng, (("call", 65), ("visit", 25), ("internet", 10)))
        responsible: str | None = self.emp[_ch(rng, p.staff)]
        if (
            c is None
            and contact_type == "call"
            and status in ("lost", "new")
            and rng.random() < 0.5
        ):
            responsible = None  # a missed call nobody was assigned to
        processed_by = processed_at = None
        ignore_reason = loss_reason = note = ""
        if status in ("document_created", "document_attached", "ignored"):
            processed_by = responsible if rng.random() < 0.85 else self.emp[_ch(rng, p.staff)]
            done = ev.doc.ms if status == "document_created" and ev.doc else 0
            processed_at = self.iso(done or ev.ms + _rint(rng, 1, 120) * 60_000)
        if status == "ignored":
            ignore_reason = self.ignore_reason(p, contact_type, c)
            if ignore_reason == _IGNORE_REASONS[3] and c is not None and c.cars:
                note = f"привез {c.cars[0].label} на обслуживание"
        elif status == "lost":
            loss_reason = _LOSS_REASONS[1] if contact_type == "call" else _LOSS_REASONS[0]
            if rng.random() < 0.2:
                loss_reason = _LOSS_REASONS[2]
            processed_at = self.iso(ev.ms + _rint(rng, 5, 40) * 60_000)
        if not note and rng.random() < 0.12:
            note = _ch(rng, _TRAFFIC_NOTES[p.department])
        if contact_type == "call":
            if status == "lost" or (status == "ignored" and ignore_reason == _IGNORE_REASONS[2]):
                duration: int | None = _rint(rng, 0, 40)
            else:
                duration = min(2700, max(5, int(rng.lognormvariate(math.log(100), 1.0))))
        elif contact_type == "visit":
            duration = _rint(rng, 120, 3600)
        else:
            duration = None
        if contact_type == "call" or (c is not None and rng.random() < 0.7):
            registered_by = self.emp[_ch(rng, _SECRETARIES)] if rng.random() < 0.7 else responsible
        else:
            registered_by = responsible
        car = ev.car
        if car is not None:
            make_model = car.label
        elif p.department == "salon" and p.code in (1, 22, 105):
            gen = self.mb_pick.pick(rng) if rng.random() < 0.65 else self.kia_pick.pick(rng)
            make_model = f"{gen.make} {gen.model}"
        else:
            make_model = ""
        region_id: str | None
        if c is not None:
            region_id = self.region_ids[c.region]
            source = c.source if ev.first or rng.random() < 0.4 else _REPEAT_SOURCE
            phone, e164 = c.phone, c.phone_e164
        else:
            region_id = self.region_ids[self.region_pick.pick(rng)] if rng.random() < 0.5 else None
            source = self.source_pick.pick(rng)
            phone = self.typed_phone(mobile=True) if contact_type == "call" else ""
            e164 = normalize_phone(phone).e164 if phone else None
        tid = self.new_id(ev.ms)
        at = self.iso(ev.ms)
        row: Row = {
            "id": tid,
            "created_at": at,
            "contact_type": contact_type,
            "department": p.department,
            "purpose_id": self.purpose_ids[p.code],
            "first_contact": int(ev.first or c is None),
            "info_source_id": self.source_ids[source],
            "branch_id": self.branch_ids[0 if rng.random() < 0.75 else 1],
            "region_id": region_id,
            "registered_by": registered_by,
            "contact_at": at,
            "counterparty_id": c.id if c is not None else None,
            "phone": phone,
            "phone_e164": e164,
            "vin": car.row["vin"] if car is not None and p.department == "service" else "",
            "plate": car.row["plate"] if car is not None and p.department == "service" else "",
            "car_id": car.row["id"] if car is not None else None,
            "make_model": make_model,
            "responsible_id": responsible,
            "processed_by": processed_by,
            "status": status,
            "ignore_reason": ignore_reason,
            "loss_reason": loss_reason,
            "document_id": ev.doc.row["id"] if ev.doc is not None else None,
            "duration_s": duration,
            "note": note,
            "extra_info": "",
            "processed_at": processed_at,
        }
        self.traffic.append((ev.ms, row))
        if (
            contact_type == "call"
            and responsible is not None
            and registered_by not in (None, responsible)
            and status != "new"
            and rng.random() < 0.15
        ):
            self.switch(tid, ev.ms, registered_by, responsible)
            colleague = self.emp[_ch(rng, p.staff)]
            if colleague != responsible and rng.random() < 0.2:
                self.switch(tid, ev.ms + 90_000, responsible, colleague)

    def switch(self, traffic_id: str, ms: int, src: str | None, dst: str | None) -> None:
        rng = self.rng
        at = ms + _rint(rng, 5, 60) * 1000
        started = self.iso(at)
        self.switches.append(
            (
                at,
                {
                    "id": self.new_id(at),
                    "created_at": started,
                    "traffic_id": traffic_id,
                    "from_employee_id": src,
                    "to_employee_id": dst,
                    "started_at": started,
                    "duration_s": _rint(rng, 5, 180),
                    "note": "",
                },
            )
        )

    def ignore_reason(self, p: _Purpose, contact_type: str, c: _Client | None) -> str:
        rng = self.rng
        wrong, walk_in, failed, service_client = _IGNORE_REASONS
        if p.department == "salon" and c is not None and c.cars and rng.random() < 0.25:
            return service_client
        if contact_type == "visit":
            return _weighted_choice(rng, ((walk_in, 5), (wrong, 2), (failed, 3)))
        return _weighted_choice(rng, ((failed, 6), (wrong, 4)))

    def anonymous_traffic(self, n: int) -> None:
        """Calls and walk-ins with no client: wrong numbers, missed calls, «Прочее»."""
        rng = self.rng
        picks = _Weighted([("other", 50.0), ("service", 25.0), ("salon", 15.0), ("shop", 10.0)])
        for _ in range(n):
            day = (
                self.today_day
                if rng.random() < 0.01
                else _rint(rng, self.year_ago_day, self.today_day)
            )
            dept = picks.pick(rng)
            ev = _Event(self.work_ms(day), self.purpose_pick[dept, "in"].pick(rng))
            if day >= self.today_day:
                ev.status = "new"
            else:
                ev.status = _weighted_choice(rng, (("ignored", 75), ("lost", 20), ("in_work", 5)))
            self.traffic_row(None, ev)

    # -- segmentation -----------------------------------------------------------------------

    def aggregate(self, c: _Client, docs: list[_Doc], ivanov: bool) -> None:
        per_line: dict[str, _LineAgg] = {}
        for d in docs:
            agg = per_line.setdefault(d.line, _LineAgg())
            agg.sum_kop += d.row["amount_kop"]
            agg.count += 1
            agg.last_day = max(agg.last_day, d.day)
            agg.first_ms = min(agg.first_ms, d.ms)
            if d.row["is_open"]:
                agg.has_open = True
            elif d.row["doc_type"] != "pre_order":
                agg.completed = True
            self.line_sum[d.line] += d.row["amount_kop"]
            self.line_count[d.line] += 1
        override = {"service": "in_work", "parts": "lost"} if ivanov else {}
        for line in ("service", "parts", "sales"):
            if line in per_line:
                self.lines.append((c.id, line, per_line[line], override.get(line, "")))

    def crm_status(self, agg: _LineAgg) -> str:
        days = self.today_day - agg.last_day
        if agg.has_open:
            return "in_work"
        if not agg.completed:
            return "potential" if days <= 60 else "lost"
        if days > 1080:
            return "lost"
        return "inactive" if self.rng.random() < 0.04 else "real"

    def write_lines(self) -> None:
        rows: list[tuple[int, Row]] = []
        for cid, line, agg, override in self.lines:
            code = abc_code(
                agg.sum_kop,
                agg.count,
                self.today_day - agg.last_day,
                self.line_sum[line],
                self.line_count[line],
            )
            ms = agg.first_ms
            rows.append(
                (
                    ms,
                    {
                        "id": self.new_id(ms),
                        "created_at": self.iso(ms),
                        "counterparty_id": cid,
                        "business_line": line,
                        "crm_status": override or self.crm_status(agg),
                        "abc": code,
                    },
                )
            )
        rows.sort(key=lambda item: (item[0], item[1]["id"]))
        for _, row in rows:
            self.sink.add("counterparty_lines", row)

    # -- the journals, in time order ----------------------------------------------------------

    def write_documents(self) -> None:
        self.docs.sort(key=lambda d: (d.ms, d.row["id"]))
        counters = dict(_DOC_START)
        for d in self.docs:
            row = d.row
            if not row["doc_no"]:
                prefix = _DOC_PREFIX[row["doc_type"]]
                row["doc_no"] = f"{prefix} {counters[prefix]}"
                counters[prefix] += 1
            self.sink.add("documents", row)

    def write_traffic(self) -> None:
        self.traffic.sort(key=lambda item: (item[0], item[1]["id"]))
        today = self.iso(self.today_day * DAY_MS)
        for number, (_, row) in enumerate(self.traffic, start=1):
            row["number"] = number
            if (
                row["status"] == "new"
                and row["contact_type"] == "visit"
                and row["contact_at"] >= today
            ):
                row["queued_at"] = row["contact_at"]  # today's walk-ins wait in the queue
            self.sink.add("traffic", row)
        self.switches.sort(key=lambda item: (item[0], item[1]["id"]))
        for _, row in self.switches:
            self.sink.add("traffic_switches", row)


def _ch(rng: random.Random, seq: Sequence[T]) -> T:
    """``rng.choice`` at a third of its cost: the demo draws millions of these."""
    return seq[int(rng.random() * len(seq))]


def _rint(rng: random.Random, lo: int, hi: int) -> int:
    """``rng.randint(lo, hi)``, both ends included."""
    return lo + int(rng.random() * (hi - lo + 1))


def _rr(rng: random.Random, start: int, stop: int | None = None) -> int:
    """``rng.randrange(stop)`` or ``rng.randrange(start, stop)``."""
    if stop is None:
        start, stop = 0, start
    return start + int(rng.random() * (stop - start))


def _gen_weight(gen: _Generation, year: int) -> float:
    """Newer generations are more common on the road; every one is still seen."""
    last = min(gen.last or year, year)
    span = max(1, last - gen.first + 1)
    return span * (2.0 if last >= year - 8 else 1.0)


def _price_of(car: _Car, rng: random.Random) -> int:
    row = car.row
    for gen in _GENERATIONS:
        if gen.make == row["make"] and gen.model == row["model"]:
            price = gen.price_rub
            if row["modification"].endswith(("4MATIC", "GT Line", "Prestige")):
                price = int(price * 1.25)
            return price if rng.random() < 0.7 else price // 2  # a used one, now and then
    return 5_500_000


def _money(rng: random.Random, median_rub: int, sigma: float, lo: int, hi: int) -> int:
    """A lognormal sum in kopecks, between ``lo`` and ``hi`` roubles."""
    rub = min(hi, max(lo, rng.lognormvariate(math.log(median_rub), sigma)))
    return int(rub) * 100 + _rr(rng, 100)


def _weighted_count(rng: random.Random, weights: Sequence[int]) -> int:
    r = rng.random() * sum(weights)
    for n, w in enumerate(weights):
        r -= w
        if r < 0:
            return n
    return len(weights) - 1


def _weighted_choice(rng: random.Random, pairs: Sequence[tuple[str, float]]) -> str:
    r = rng.random() * sum(w for _, w in pairs)
    for item, w in pairs:
        r -= w
        if r < 0:
            return item
    return pairs[-1][0]


def generate_demo(
    writer: RowWriter, *, clients: int, seed: int, today: dt.date, batch: int = 5000
) -> DemoSummary:
    """Write a whole demo dealership through ``writer``; returns the rows written per table.

    ``clients`` counterparties (number 1 is the brochure's Иванов), ~1.5 cars each, up to six
    documents each over the last three years, per-line CRM status and ABC code, and about
    ``min(clients, 20000)`` traffic rows over the last year. Same ``seed`` and ``today``, same
    rows; the writer's clock stamps ``updated_at`` (and ``created_at`` of tables whose schema
    does not let a write name it).
    """
    if clients < 0:
        raise ValueError(f"clients must be ≥ 0, not {clients}")
    if batch < 1:
        raise ValueError(f"batch must be ≥ 1, not {batch}")
    demo = _Demo(writer, seed=seed, today=today, batch=batch)
    demo.run(clients)
    return DemoSummary(counts=dict(demo.sink.counts))
