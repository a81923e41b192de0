"""Deterministic generator of ShopStream's OLTP source: the rows of the six ``oltp`` tables.

Why it is built this way:

- Reproducible: the same ``GeneratorOptions`` give byte-identical rows (and COPY bytes) on every run
  and machine. Each concern draws from its own ``random.Random`` seeded with ``"<seed>:<stream>"``,
  so one table's rows do not depend on how much of another table was consumed, and turning dirty data
  on changes only the rows it dirties.
- Memory bounded: orders, their items and their events are produced together, one order at a time
  (``order_stream``). Only compact per-user and per-product arrays are kept (about 40 bytes a user),
  because every order, item, event and contact must point to a row that already exists.
- Fast: Faker is slow, so it only fills small pools of names, cities, phones and domains per locale
  once. Rows hold "raw" values (``include.data_gen.encoding``): timestamps as integer microseconds,
  money as cents, JSON as text, so no ``datetime``, ``Decimal`` or ``json.dumps`` is made per row.
- Realistic: six countries with their locales; eight categories with their own price ranges;
  log-uniform prices; orders follow a weekly rhythm (weekends +20%), a seasonal one (November and
  December peaks), an hour-of-day curve and a growing business; a customer's share of orders follows a
  Pareto "propensity" (repeat customers with a long tail), within what a consumer shop sees: the shop
  predates the window (30% of the customers exist at its start) and nobody orders twice within two days
  (``MIN_REORDER_GAP``), so the top customer of a 2,000-order month places at most 16 orders (about
  14 in practice, against a median of 5); order and CRM statuses follow their
  lifecycle (``ORDER_TRANSITIONS``); each order comes with web/app events around it, a few of which
  arrive late (``created_at`` hours after ``occurred_at``); CRM contacts are mostly customers.
- Consistent: every foreign key points to a row created earlier, ``created_at`` lies in the history
  window ``[end_date - days, end_date)`` (UTC) and ``updated_at`` lies in ``[created_at, end_date)``.

Dirty data (``dirty_rate``; ``GeneratorOptions`` default 0, the command line's default
``DEFAULT_DIRTY_RATE`` = 2% so that the demo's data-quality page shows what the warn-level tests catch;
``--dirty-rate 0`` gives a clean source): real sources hold plausible mistakes that the warehouse must
catch. Each kind below hits each eligible row independently with probability ``dirty_rate``; all of
them satisfy the database's constraints (dirty is not invalid):

(a) ``duplicate_email`` (users): the user's e-mail is another, earlier user's e-mail differing only in
    case or surrounding whitespace: ``lower(trim(email))`` is equal, ``email`` is not.
(b) ``blank_name`` (users): ``first_name`` or ``last_name`` is ``''`` or ``'  '`` (blank, not NULL).
(c) ``payload_missing_device`` (events): the JSON payload lacks the ``device`` key every event has.
(d) ``future_client_time`` (events): ``occurred_at`` (the client's clock) is more than one hour after
    ``created_at`` (the server's receipt time): between 1 h 1 min and 25 h ahead.

Column names and order come from ``include.shopstream.config``; the generator checks at start that its
tuples follow them, so it cannot silently drift from the extraction's view of the tables.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
import unicodedata
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from itertools import accumulate, islice
from typing import Any, TypeVar

from faker import Faker

from include.data_gen.encoding import RowCodec, ts_from_datetime
from include.shopstream.config import (
    GENERATED_HISTORY_DAYS,
    GENERATED_ORDERS,
    GENERATOR_SEED,
    TABLES,
    TABLES_BY_NAME,
)

Row = tuple[Any, ...]

DEFAULT_BATCH_SIZE = 10_000
HOUR = 3600.0
DAY = 86400.0
US = 1_000_000.0
# Orders start one hour into the window so that at least the first user and most of the catalogue
# exist before them, and nothing is stamped in the last minute so updates still fit before end_date.
FIRST_ORDER_OFFSET = HOUR
END_MARGIN = 60.0
# A user exists this long before his first purchase session starts (covers the session's length).
USER_LEAD_TIME = 1800.0

# Allowed values: the DDL's check constraints (include/sql/postgres/001_oltp_schema.sql).
ORDER_STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled", "refunded")
PAYMENT_METHODS = ("card", "paypal", "bank_transfer", "gift_card")
SIGNUP_CHANNELS = ("web", "app", "marketplace", "referral")
EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "checkout_started", "purchase", "search")
CRM_CHANNELS = ("email", "phone", "chat", "social")
CRM_STATUSES = ("open", "pending", "resolved")
CRM_REASONS = (
    "delivery_delay",
    "refund_request",
    "damaged_item",
    "payment_issue",
    "account_access",
    "product_question",
    "return_request",
    "other",
)
DEVICES = ("desktop", "mobile", "tablet", "app_ios", "app_android")
REFERRERS = ("direct", "google", "newsletter", "instagram", "tiktok", "partner")

# The lifecycles: the statuses a row may move to from each status (history rows hold the end of such
# a path; the next-day simulation moves rows along one edge at a time).
ORDER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("paid", "cancelled"),
    "paid": ("shipped", "cancelled"),
    "shipped": ("delivered",),
    "delivered": ("refunded",),
    "cancelled": (),
    "refunded": (),
}
CRM_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("pending", "resolved"),
    "pending": ("resolved",),
    "resolved": (),
}

# Rhythm of orders: day of week (Monday first), month, and hour of day (UTC, all markets together).
WEEKDAY_FACTOR = (1.0, 0.95, 0.95, 1.0, 1.05, 1.15, 1.25)
MONTH_FACTOR = (0.9, 0.85, 0.9, 0.95, 0.95, 0.95, 0.9, 0.85, 0.95, 1.0, 1.3, 1.45)
HOUR_WEIGHTS = (
    1.5, 1.0, 0.7, 0.5, 0.5, 0.7, 1.2, 2.2, 3.4, 4.2, 4.6, 5.0,
    5.4, 5.2, 4.8, 4.7, 4.9, 5.3, 6.0, 6.6, 6.7, 5.6, 4.0, 2.6,
)  # fmt: skip
# Customers' propensity to order: Pareto(alpha), capped. Drives repeat customers and the long tail.
PROPENSITY_ALPHA = 1.2
PROPENSITY_CAP = 20.0
# A consumer shop's frequencies: customers existing when the window opens (else the first days' orders
# pile on the first few sign-ups), and a minimum gap between two orders of a customer (redrawn up to
# REORDER_DRAWS times, enough that no generated history hits the limit).
LAUNCH_CUSTOMER_SHARE = 0.3
MIN_REORDER_GAP = 2 * DAY
REORDER_DRAWS = 50
# Events: share arriving late (server receipt hours after the client's event) and their delay range.
LATE_EVENT_RATE = 0.02
LATE_EVENT_DELAY = (HOUR, 12 * HOUR)
INGEST_DELAY_MAX = 2.0
# Dirty data: the kinds, in the order of the module docstring.
_Index = TypeVar("_Index")

# CRM contacts: the share who are customers (the others are prospects known by e-mail only), and the
# share of those not on the phone channel who left a phone number.
CRM_CUSTOMER_SHARE = 0.85
CRM_PHONE_SHARE = 0.3

DIRTY_KINDS = ("duplicate_email", "blank_name", "payload_missing_device", "future_client_time")
FUTURE_CLIENT_SKEW = (HOUR + 60.0, 25 * HOUR)
# The command line's default: a few flagged rows per table for the demo's data-quality page.
DEFAULT_DIRTY_RATE = 0.02


@dataclass(frozen=True)
class LocaleSpec:
    """A Faker locale, the country it stands for and its share of the customers."""

    locale: str
    country_code: str
    weight: float


LOCALES: tuple[LocaleSpec, ...] = (
    LocaleSpec("en_US", "US", 30),
    LocaleSpec("fr_FR", "FR", 20),
    LocaleSpec("de_DE", "DE", 15),
    LocaleSpec("en_GB", "GB", 15),
    LocaleSpec("es_ES", "ES", 10),
    LocaleSpec("it_IT", "IT", 10),
)
COUNTRIES = tuple(loc.country_code for loc in LOCALES)


@dataclass(frozen=True)
class Category:
    """A product category: its SKU prefix, its price range (in currency units) and its nouns."""

    name: str
    code: str
    min_price: float
    max_price: float
    weight: float
    nouns: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category(
        "electronics",
        "ELE",
        19,
        1500,
        15,
        ("Headphones", "Speaker", "Smartwatch", "Tablet", "Charger", "Keyboard", "Monitor", "Camera"),
    ),
    Category("home", "HOM", 8, 400, 18, ("Lamp", "Cushion", "Vase", "Rug", "Kettle", "Blender", "Clock")),
    Category("fashion", "FAS", 9, 250, 20, ("T-Shirt", "Jeans", "Sneakers", "Jacket", "Scarf", "Dress", "Backpack")),
    Category("beauty", "BEA", 4, 90, 10, ("Serum", "Moisturizer", "Shampoo", "Perfume", "Lipstick")),
    Category("sports", "SPO", 9, 600, 10, ("Yoga Mat", "Dumbbells", "Bike Helmet", "Running Shoes", "Tent")),
    Category("books", "BOO", 5, 60, 10, ("Novel", "Cookbook", "Travel Guide", "Comic", "Biography")),
    Category("toys", "TOY", 7, 150, 8, ("Puzzle", "Board Game", "Building Set", "Plush", "RC Car")),
    Category("grocery", "GRO", 2, 40, 9, ("Coffee", "Tea", "Olive Oil", "Chocolate", "Pasta", "Honey")),
)
CATEGORY_BY_NAME = {c.name: c for c in CATEGORIES}
ADJECTIVES = (
    "Classic",
    "Premium",
    "Eco",
    "Smart",
    "Compact",
    "Deluxe",
    "Essential",
    "Pro",
    "Urban",
    "Vintage",
)
# Payloads are written as JSON text by f-strings: their words must need no JSON escaping.
_SEARCH_QUERIES = tuple(tuple(n.lower() for n in c.nouns) for c in CATEGORIES)
assert not any(ch in w for ch in '"\\' for w in (*DEVICES, *REFERRERS, *PAYMENT_METHODS, *sum(_SEARCH_QUERIES, ())))


class WeightedChoice:
    """Weighted pick with a bisect on cumulative weights: several times faster than ``rng.choices``."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        if len(items) != len(weights) or not items:
            raise ValueError("items and weights must be non-empty and of the same length")
        self.items = tuple(items)
        self.cumulative = tuple(accumulate(weights))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


def _weighted(pairs: Sequence[tuple[Any, float]]) -> WeightedChoice:
    return WeightedChoice([p[0] for p in pairs], [p[1] for p in pairs])


PICK_SIGNUP_CHANNEL = _weighted((("web", 50), ("app", 30), ("marketplace", 12), ("referral", 8)))
PICK_PAYMENT = _weighted((("card", 55), ("paypal", 25), ("bank_transfer", 12), ("gift_card", 8)))
PICK_CATEGORY = WeightedChoice(CATEGORIES, [c.weight for c in CATEGORIES])
PICK_LOCALE = WeightedChoice(range(len(LOCALES)), [loc.weight for loc in LOCALES])
PICK_ITEM_COUNT = _weighted(((1, 40), (2, 28), (3, 17), (4, 10), (5, 5)))
PICK_QUANTITY = _weighted(((1, 70), (2, 20), (3, 10)))
PICK_BROWSE_EVENT = _weighted((("page_view", 45), ("search", 30), ("product_view", 25)))
PICK_CRM_CHANNEL = _weighted((("email", 40), ("chat", 25), ("phone", 20), ("social", 15)))
PICK_CRM_REASON = _weighted(list(zip(CRM_REASONS, (25, 12, 8, 10, 8, 20, 12, 5), strict=True)))
PICK_DISCOUNT_PCT = _weighted(((5, 1), (10, 1), (15, 1), (20, 1), (25, 1)))
MEAN_ITEMS_PER_ORDER = sum(n * w for n, w in zip(PICK_ITEM_COUNT.items, (40, 28, 17, 10, 5), strict=True)) / 100

# Order status by age in days: recent orders are still in flight, old ones mostly delivered.
ORDER_STATUS_BY_AGE: tuple[tuple[float, WeightedChoice], ...] = (
    (1.0, _weighted((("pending", 25), ("paid", 45), ("shipped", 18), ("cancelled", 12)))),
    (4.0, _weighted((("paid", 10), ("shipped", 50), ("delivered", 28), ("cancelled", 8), ("refunded", 4)))),
    (math.inf, _weighted((("shipped", 3), ("delivered", 82), ("cancelled", 8), ("refunded", 7)))),
)
# Seconds from order creation to the last status change (min, max); pending never moved.
ORDER_STATUS_DELAY: dict[str, tuple[float, float]] = {
    "pending": (0.0, 0.0),
    "paid": (60.0, HOUR),
    "shipped": (0.5 * DAY, 2.5 * DAY),
    "delivered": (2 * DAY, 6 * DAY),
    "cancelled": (600.0, DAY),
    "refunded": (5 * DAY, 14 * DAY),
}
# The status an order was in before its current one (the predecessor on its lifecycle path).
ORDER_STATUS_FALLBACK = {
    "refunded": "delivered",
    "delivered": "shipped",
    "shipped": "paid",
    "paid": "pending",
    "cancelled": "pending",
}
CRM_STATUS_BY_AGE: tuple[tuple[float, WeightedChoice], ...] = (
    (1.0, _weighted((("open", 50), ("pending", 30), ("resolved", 20)))),
    (5.0, _weighted((("open", 15), ("pending", 25), ("resolved", 60)))),
    (math.inf, _weighted((("open", 3), ("pending", 7), ("resolved", 90)))),
)
CRM_STATUS_DELAY: dict[str, tuple[float, float]] = {
    "open": (0.0, 0.0),
    "pending": (600.0, DAY),
    "resolved": (HOUR, 4 * DAY),
}
CRM_STATUS_FALLBACK = {"resolved": "pending", "pending": "open"}

# The tuples the generator builds, column by column; checked against the config at start.
GENERATED_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("user_id", "email", "first_name", "last_name", "country_code", "city", "signup_channel"),
    "products": ("product_id", "sku", "product_name", "category", "brand", "unit_price", "is_active"),
    "orders": ("order_id", "user_id", "order_status", "payment_method", "shipping_country_code", "ordered_at"),
    "order_items": ("order_item_id", "order_id", "product_id", "quantity", "unit_price", "discount_amount"),
    "events": ("event_id", "user_id", "session_id", "event_type", "occurred_at", "payload"),
    "crm_contacts": (
        "contact_id", "user_id", "email", "phone", "channel", "contact_reason", "contact_status"
    ),
}  # fmt: skip


def copy_columns(table: str) -> tuple[str, ...]:
    """The bare column names of a table, from the config's select list (``x::type as x`` -> ``x``)."""
    return tuple(_bare_column(c) for c in TABLES_BY_NAME[table].columns)


def _bare_column(expression: str) -> str:
    if " as " in expression:
        return expression.rsplit(" as ", 1)[1].strip()
    return expression.split("::", 1)[0].strip()


def check_columns() -> None:
    """Fail fast if the config's column order differs from the tuples the generator builds."""
    for table in TABLES:
        expected = (*GENERATED_COLUMNS[table.name], "created_at", "updated_at")
        if copy_columns(table.name) != expected:
            raise RuntimeError(f"generator and config disagree on {table.name}'s columns: {copy_columns(table.name)}")
    if set(GENERATED_COLUMNS) != {t.name for t in TABLES}:
        raise RuntimeError("generator and config disagree on the tables")


# Columns the generator may leave NULL (all others are packed without a NULL test).
NULLABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("first_name", "last_name", "city"),
    "products": ("brand",),
    "events": ("user_id",),
    "crm_contacts": ("user_id", "phone"),
}


@lru_cache(maxsize=16)
def codec(table: str) -> RowCodec:
    return RowCodec(copy_columns(table), NULLABLE_COLUMNS.get(table, ()))


def _by_age(table: tuple[tuple[float, WeightedChoice], ...], age_days: float) -> WeightedChoice:
    for limit, choice in table:
        if age_days < limit:
            return choice
    return table[-1][1]


def _ascii_slug(text: str) -> str:
    """An e-mail-safe lower-case form of a name (``Müller-Lüdenscheidt`` -> ``muellerluedenscheidt``)."""
    folded = text.replace("ß", "ss").replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")
    ascii_text = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum()) or "customer"


def money_text(cents: int) -> str:
    """Cents as a JSON/decimal number text with two decimals (``12345`` -> ``123.45``)."""
    return f"{cents // 100}.{cents % 100:02d}"


def _sorted_fraction(index: int, count: int, rng: random.Random) -> float:
    """The index-th of count sorted points in [0, 1): one per stratum, so ids grow with time."""
    return (index + rng.random()) / count


def _growth_quantile(q: float, base: float = 0.5) -> float:
    """Inverse CDF on [0, 1] of a density proportional to ``base + x``: activity grows with the user base."""
    return -base + math.sqrt(base * base + 2.0 * q * (base + 0.5))


_HOUR_TOTAL = sum(HOUR_WEIGHTS)
_HOUR_CUM = tuple(c / _HOUR_TOTAL for c in accumulate((0.0, *HOUR_WEIGHTS)))


def hour_quantile(q: float) -> float:
    """Seconds into the day of the q-quantile of the hour-of-day curve (monotone in q)."""
    h = min(23, bisect.bisect_right(_HOUR_CUM, q) - 1)
    return (h + (q - _HOUR_CUM[h]) * _HOUR_TOTAL / HOUR_WEIGHTS[h]) * HOUR


def day_factor(day: date) -> float:
    """Relative order volume of a calendar day: weekday times month."""
    return WEEKDAY_FACTOR[day.weekday()] * MONTH_FACTOR[day.month - 1]


def seed_key(seed: int | str) -> int:
    return int.from_bytes(hashlib.sha256(str(seed).encode()).digest()[:8], "big")


_MASK64 = (1 << 64) - 1


def propensity(key: int, user_id: int) -> float:
    """A user's propensity to order: Pareto-distributed, a pure function of (seed, user_id).

    A hash rather than a random stream, so the history and the next-day simulation (which only sees the
    database) agree on who the frequent customers are.
    """
    x = (user_id * 0x9E3779B97F4A7C15 + key) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    x ^= x >> 31
    u = (x >> 11) / 9007199254740992.0
    return min(PROPENSITY_CAP, (1.0 - u) ** (-1.0 / PROPENSITY_ALPHA))


@dataclass(frozen=True)
class LocalePool:
    """Names, cities, phones and e-mail domains of one locale, drawn once from Faker."""

    country_code: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    first_slugs: tuple[str, ...]
    last_slugs: tuple[str, ...]
    cities: tuple[str, ...]
    phones: tuple[str, ...]
    email_domains: tuple[str, ...]


@dataclass(frozen=True)
class Pools:
    """Every Faker-derived value the rows use; built once per seed."""

    locales: tuple[LocalePool, ...]
    brands: tuple[str, ...]


POOL_SIZE = 250


def _hash_independent(fake: Faker) -> Faker:
    """Sort provider word lists that Faker builds from a set (it_IT ``cities``).

    A list made from a set follows ``PYTHONHASHSEED``, so the same Faker seed would pick other cities in
    another process. Sorting them (on this instance only) makes the pools depend on the seed alone.
    """
    for provider in fake.get_providers():
        cities = getattr(provider, "cities", None)
        if isinstance(cities, list):
            provider.cities = sorted(cities)
    return fake


def _locale_pool(spec: LocaleSpec, seed: int) -> LocalePool:
    fake = _hash_independent(Faker(spec.locale))
    fake.seed_instance(f"{seed}:{spec.locale}")
    first = tuple(fake.first_name() for _ in range(POOL_SIZE))
    last = tuple(fake.last_name() for _ in range(POOL_SIZE))
    return LocalePool(
        country_code=spec.country_code,
        first_names=first,
        last_names=last,
        first_slugs=tuple(_ascii_slug(n) for n in first),
        last_slugs=tuple(_ascii_slug(n) for n in last),
        cities=tuple(fake.city() for _ in range(POOL_SIZE // 2)),
        phones=tuple(fake.phone_number() for _ in range(POOL_SIZE)),
        email_domains=tuple(sorted({fake.free_email_domain() for _ in range(40)})),
    )


@lru_cache(maxsize=4)
def build_pools(seed: int) -> Pools:
    """Draw the Faker pools for a seed (cached: the same seed always yields the same pools)."""
    fake = Faker("en_US")
    fake.seed_instance(f"{seed}:brands")
    brands = tuple(sorted({fake.last_name() for _ in range(80)}))
    return Pools(locales=tuple(_locale_pool(spec, seed) for spec in LOCALES), brands=brands)


def email_variant(email: str, variant: int) -> str:
    """Dirty kind (a): the same address differing only in case or surrounding whitespace."""
    if variant == 0:
        return email.upper()
    if variant == 1:
        return f" {email}"
    if variant == 2:
        return f"{email} "
    local, _, domain = email.partition("@")
    return f"{local}@{domain.upper()}"


def base_email(pools: Pools, loc_idx: int, first: int, last: int, domain: int, user_id: int) -> str:
    pool = pools.locales[loc_idx]
    return f"{pool.first_slugs[first]}.{pool.last_slugs[last]}{user_id}@{pool.email_domains[domain]}"


def _filled(index: _Index, records: Callable[[_Index], Iterator[Any]]) -> _Index:
    """``index`` once ``records(index)`` has gone through every record, filling it on the way."""
    for _ in records(index):
        pass
    return index


def draw_prospect(rng: random.Random, pools: Pools) -> tuple[int, str]:
    """A CRM contact who is not a customer, known by e-mail only: its locale index and e-mail."""
    loc_idx, first, last, domain = draw_person(rng, pools)
    pool = pools.locales[loc_idx]
    return loc_idx, f"{pool.first_slugs[first]}.{pool.last_slugs[last]}@{pool.email_domains[domain]}"


def draw_crm_phone(rng: random.Random, pool: LocalePool, channel: str) -> str | None:
    """A CRM contact's phone number: always on the phone channel, else for CRM_PHONE_SHARE of them."""
    if channel == "phone" or rng.random() < CRM_PHONE_SHARE:
        return pool.phones[int(rng.random() * len(pool.phones))]
    return None


def draw_person(rng: random.Random, pools: Pools) -> tuple[int, int, int, int]:
    """Locale, first-name, last-name and e-mail-domain indexes of a new person."""
    loc_idx = PICK_LOCALE(rng)
    pool = pools.locales[loc_idx]
    return (
        loc_idx,
        int(rng.random() * POOL_SIZE),
        int(rng.random() * POOL_SIZE),
        int(rng.random() * len(pool.email_domains)),
    )


def blank_names(dirty: random.Random, first: str, last: str) -> tuple[str, str]:
    """Dirty kind (b): one of the two names blank ('' or two spaces)."""
    blank = "" if dirty.random() < 0.5 else "  "
    return (blank, last) if dirty.random() < 0.5 else (first, blank)


def status_for_age(
    rng: random.Random,
    by_age: tuple[tuple[float, WeightedChoice], ...],
    delays: dict[str, tuple[float, float]],
    fallback: dict[str, str],
    age: float,
) -> str:
    """A status drawn by age (seconds until the window's end), stepped back while it could not be reached.

    An order placed ten minutes before the window's end cannot be shipped: it falls back to paid or
    pending, so ``updated_at - created_at`` always reflects a plausible transition time.
    """
    status: str = _by_age(by_age, age / DAY)(rng)
    room = age - 1.0
    while delays[status][0] > room:
        status = fallback[status]
    return status


class EventMaker:
    """Turns a client event into a raw ``events`` row tail: server receipt time, late arrivals, dirt.

    Offsets are seconds from ``base_us``; ``limit`` is the last offset a server time may take.
    """

    def __init__(self, rng: random.Random, dirty: random.Random, dirty_rate: float, base_us: int, limit: float):
        self.rng = rng
        self.dirty = dirty
        self.dirty_rate = dirty_rate
        self.base_us = base_us
        self.limit = limit

    def make(
        self, occurred: float, user_id: int | None, session: str, event_type: str, device: str, body: str
    ) -> tuple[int | None, str, str, int, str, int, int]:
        rng = self.rng
        r = rng.random()
        if r < LATE_EVENT_RATE:  # offline app, queued batch: received hours later
            received = (
                occurred + LATE_EVENT_DELAY[0] + r / LATE_EVENT_RATE * (LATE_EVENT_DELAY[1] - LATE_EVENT_DELAY[0])
            )
        else:
            received = occurred + rng.random() * INGEST_DELAY_MAX
        if received > self.limit:
            received = max(occurred, self.limit)
        payload = f'{{"device": "{device}", {body}}}'
        if self.dirty_rate:
            dirty = self.dirty
            if dirty.random() < self.dirty_rate:  # (c)
                payload = f"{{{body}}}"
            if dirty.random() < self.dirty_rate:  # (d)
                low, high = FUTURE_CLIENT_SKEW
                occurred = received + low + dirty.random() * (high - low)
        base = self.base_us
        created = base + int(received * US)
        return user_id, session, event_type, base + int(occurred * US), payload, created, created


def browse_body(rng: random.Random, event_type: str, product_id: int) -> str:
    """The payload (without device) of a browsing event."""
    if event_type == "page_view":
        cat = CATEGORIES[int(rng.random() * len(CATEGORIES))]
        return f'"url": "/c/{cat.name}", "referrer": "{REFERRERS[int(rng.random() * len(REFERRERS))]}"'
    if event_type == "search":
        queries = _SEARCH_QUERIES[int(rng.random() * len(_SEARCH_QUERIES))]
        return f'"query": "{queries[int(rng.random() * len(queries))]}", "results": {int(rng.random() * 120)}'
    return f'"url": "/p/{product_id}", "product_id": {product_id}'


def session_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


def order_events(
    rng: random.Random,
    maker: EventMaker,
    order_id: int,
    user_id: int,
    user_created: float,
    created: float,
    payment: str,
    items: list[Row],
) -> list[tuple[int | None, str, str, int, str, int, int]]:
    """One browsing event in the six hours before an order, then the four steps of its purchase session.

    ``items`` are raw order_items rows (product_id at 2, quantity at 3, cents at 4, discount at 5).
    """
    first_pid, first_qty = items[0][2], items[0][3]
    occurred = max(0.0, created - rng.random() * 6 * HOUR)
    known = occurred >= user_created and rng.random() >= 0.25
    event_type: str = PICK_BROWSE_EVENT(rng)
    device = DEVICES[int(rng.random() * len(DEVICES))]
    body = browse_body(rng, event_type, first_pid)
    browse = maker.make(occurred, user_id if known else None, session_id(rng), event_type, device, body)
    session = session_id(rng)
    device = DEVICES[int(rng.random() * len(DEVICES))]
    value = money_text(sum(i[3] * i[4] - i[5] for i in items))
    t_checkout = created - (30 + rng.random() * 270)
    t_cart = t_checkout - (10 + rng.random() * 590)
    t_view = t_cart - (5 + rng.random() * 175)
    make = maker.make
    return [
        browse,
        make(t_view, user_id, session, "product_view", device, f'"url": "/p/{first_pid}", "product_id": {first_pid}'),
        make(t_cart, user_id, session, "add_to_cart", device, f'"product_id": {first_pid}, "quantity": {first_qty}'),
        make(t_checkout, user_id, session, "checkout_started", device, f'"items": {len(items)}, "cart_value": {value}'),
        make(
            created,
            user_id,
            session,
            "purchase",
            device,
            f'"order_id": {order_id}, "value": {value}, "payment_method": "{payment}"',
        ),
    ]


def product_row(rng: random.Random, pools: Pools, product_id: int) -> tuple[str, str, str, str, int]:
    """SKU, name, category, brand and price (cents) of a new product: log-uniform in its category's range."""
    brands = pools.brands
    cat: Category = PICK_CATEGORY(rng)
    units = math.exp(rng.uniform(math.log(cat.min_price), math.log(cat.max_price)))
    cents = max(1, int(units)) * 100 - 1
    name = (
        f"{brands[int(rng.random() * len(brands))]} "
        f"{ADJECTIVES[int(rng.random() * len(ADJECTIVES))]} "
        f"{cat.nouns[int(rng.random() * len(cat.nouns))]}"
    )
    return f"{cat.code}-{product_id:06d}", name, cat.name, brands[int(rng.random() * len(brands))], cents


@dataclass(frozen=True)
class GeneratorOptions:
    """What to generate. Sizes derive from ``orders``; the window is ``[end_date - days, end_date)`` UTC.

    ``end_date`` defaults to today (UTC): pass it explicitly for a reproducible data set. ``dirty_rate``
    is the probability that each eligible row carries each dirty-data kind (see the module docstring).
    """

    orders: int = GENERATED_ORDERS
    days: int = GENERATED_HISTORY_DAYS
    end_date: date = field(default_factory=lambda: datetime.now(UTC).date())
    seed: int = GENERATOR_SEED
    dirty_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.orders <= 0:
            raise ValueError(f"orders must be > 0, got {self.orders}")
        if self.days <= 0:
            raise ValueError(f"days must be > 0, got {self.days}")
        if not 0.0 <= self.dirty_rate <= 0.5:
            raise ValueError(f"dirty_rate must be within [0, 0.5], got {self.dirty_rate}")

    @property
    def window_end(self) -> datetime:
        return datetime.combine(self.end_date, time.min, tzinfo=UTC)

    @property
    def window_start(self) -> datetime:
        return self.window_end - timedelta(days=self.days)

    @property
    def users(self) -> int:
        return max(50, self.orders // 5)

    @property
    def products(self) -> int:
        return min(2000, max(50, self.orders // 50))

    @property
    def events(self) -> int:
        """Exactly five per order: one browsing event plus a four-step purchase session."""
        return 5 * self.orders

    @property
    def crm_contacts(self) -> int:
        return max(1, self.orders // 10)


class UserIndex:
    """What later rows need of each user, by ``user_id - 1``, in compact arrays (~40 bytes a user)."""

    def __init__(self) -> None:
        self.created_off = array("d")
        self.cum_propensity = array("d")
        self.locale_idx = array("b")
        self.first = array("H")
        self.last = array("H")
        self.domain = array("B")
        self.email_root = array("q")  # user index whose base e-mail this user's e-mail derives from
        self.email_variant = array("b")  # -1: the base e-mail itself; else an ``email_variant`` code


class ProductIndex:
    """Products' creation offsets (sorted) and prices in cents, by ``product_id - 1``."""

    def __init__(self) -> None:
        self.created_off = array("d")
        self.price_cents = array("q")


class OltpGenerator:
    """Rows of the six OLTP tables for one ``GeneratorOptions``; every call replays the same rows."""

    def __init__(self, options: GeneratorOptions) -> None:
        check_columns()
        self.options = options
        self.start = options.window_start
        self.base_us = ts_from_datetime(self.start)
        self.span = (options.window_end - options.window_start).total_seconds()
        self.last_off = self.span - END_MARGIN
        self.pools = build_pools(options.seed)
        self.key = seed_key(options.seed)

    # --- public API ------------------------------------------------------------------------------

    def tables(self) -> tuple[str, ...]:
        """Table names in load order (the config's order, which respects foreign keys)."""
        return tuple(t.name for t in TABLES)

    def raw_rows(self, table: str) -> Iterator[Row]:
        """Stream a table's raw rows (see ``include.data_gen.encoding``) in ``copy_columns`` order."""
        if table == "users":
            return self._user_rows()
        if table == "products":
            return self._product_rows()
        if table == "crm_contacts":
            return self._crm_rows()
        position = {"orders": 0, "order_items": 1, "events": 2}[table]
        if position == 0:
            return (bundle[0] for bundle in self.order_stream())
        return (row for bundle in self.order_stream() for row in bundle[position])

    def rows(self, table: str) -> Iterator[Row]:
        """Stream a table's rows as Python values (``datetime``, ``Decimal``, ``dict``), as psycopg reads them."""
        convert = codec(table).to_python
        return (convert(row) for row in self.raw_rows(table))

    def batches(self, table: str, size: int = DEFAULT_BATCH_SIZE) -> Iterator[list[Row]]:
        """Stream a table's rows (Python values) in lists of at most ``size`` rows."""
        if size <= 0:
            raise ValueError("batch size must be > 0")
        rows = self.rows(table)
        while batch := list(islice(rows, size)):
            yield batch

    def checksums(self) -> dict[str, str]:
        """SHA-256 of each table's binary COPY bytes: equal checksums mean byte-identical data."""
        result = {}
        for table in self.tables():
            digest = hashlib.sha256()
            encode = codec(table).encode_many
            rows = self.raw_rows(table)
            while batch := list(islice(rows, DEFAULT_BATCH_SIZE)):
                digest.update(encode(batch))
            result[table] = digest.hexdigest()
        return result

    def expected_counts(self) -> dict[str, int]:
        """Row counts per table without generating the rows (item counts replay only their draws)."""
        o = self.options
        counts = {
            "users": o.users,
            "products": o.products,
            "orders": o.orders,
            "order_items": sum(self._item_counts()),
            "events": o.events,
            "crm_contacts": o.crm_contacts,
        }
        return {t: counts[t] for t in self.tables()}

    def orders_per_day(self) -> list[int]:
        """Orders of each day of the window: growth x weekday x month, rounded cumulatively (sum exact)."""
        o = self.options
        first = o.window_start.date()
        weights = [(0.6 + 0.8 * (d + 0.5) / o.days) * day_factor(first + timedelta(days=d)) for d in range(o.days)]
        total = sum(weights)
        counts, done, cum = [], 0, 0.0
        for w in weights:
            cum += w
            upto = round(o.orders * cum / total)
            counts.append(upto - done)
            done = upto
        return counts

    # --- helpers ---------------------------------------------------------------------------------

    def _rng(self, stream: str) -> random.Random:
        return random.Random(f"{self.options.seed}:{stream}")

    def _later(self, rng: random.Random, created: float, delay: tuple[float, float]) -> float:
        """A change time ``delay`` after ``created``, cut short so that it stays before the window's end."""
        low, high = delay
        if high <= 0:
            return created
        room = self.span - 1.0 - created
        return created + rng.uniform(min(low, room), min(high, room))

    def _ts(self, offset: float) -> int:
        return self.base_us + int(offset * US)

    @cached_property
    def user_index(self) -> UserIndex:
        return _filled(UserIndex(), self._user_records)

    @cached_property
    def product_index(self) -> ProductIndex:
        return _filled(ProductIndex(), self._product_records)

    def user_email(self, idx: int) -> str:
        """The e-mail stored for the user at index ``idx`` (``user_id - 1``)."""
        users = self.user_index
        root = users.email_root[idx]
        email = base_email(
            self.pools, users.locale_idx[root], users.first[root], users.last[root], users.domain[root], root + 1
        )
        variant = users.email_variant[idx]
        return email if variant < 0 else email_variant(email, variant)

    # --- users and products ----------------------------------------------------------------------

    def _user_records(self, index: UserIndex | None = None) -> Iterator[Row]:
        rng = self._rng("users")
        dirty = self._rng("dirty:users")
        rate = self.options.dirty_rate
        pools = self.pools
        n = self.options.users
        key = self.key
        cum = 0.0
        roots = array("q")  # the e-mail root of each user so far (dirty duplicates point to theirs)
        for i in range(n):
            created = self._user_created_off(i, n, rng)
            updated = created if rng.random() < 0.75 else created + rng.random() * (self.span - 1 - created)
            loc_idx, f, la, dom = draw_person(rng, pools)
            pool = pools.locales[loc_idx]
            first_name, last_name = pool.first_names[f], pool.last_names[la]
            city = pool.cities[int(rng.random() * len(pool.cities))]
            channel = PICK_SIGNUP_CHANNEL(rng)
            root, variant = i, -1
            if rate and i > 0:
                if dirty.random() < rate:  # (a)
                    root, variant = roots[int(dirty.random() * i)], int(dirty.random() * 4)
                if dirty.random() < rate:  # (b)
                    first_name, last_name = blank_names(dirty, first_name, last_name)
            roots.append(root)
            if variant < 0:
                email = base_email(pools, loc_idx, f, la, dom, i + 1)
            elif index is not None:
                email = email_variant(
                    base_email(
                        pools, index.locale_idx[root], index.first[root], index.last[root], index.domain[root], root + 1
                    ),
                    variant,
                )
            else:
                email = email_variant(self.user_email(root), variant)
            if index is not None:
                cum += propensity(key, i + 1)
                index.created_off.append(created)
                index.cum_propensity.append(cum)
                index.locale_idx.append(loc_idx)
                index.first.append(f)
                index.last.append(la)
                index.domain.append(dom)
                index.email_root.append(root)
                index.email_variant.append(variant)
            yield (
                i + 1,
                email,
                first_name,
                last_name,
                pool.country_code,
                city,
                channel,
                self._ts(created),
                self._ts(updated),
            )

    def _user_created_off(self, i: int, n: int, rng: random.Random) -> float:
        """The shop predates the window: a share of the customers (``LAUNCH_CUSTOMER_SHARE``) exist in its
        first half hour, the others sign up over time. Without that base, the first days' orders fall on
        the handful of users created so far, and they end up with dozens of orders each."""
        launch = max(1, int(n * LAUNCH_CUSTOMER_SHARE))
        if i == 0:
            return 0.0
        if i < launch:
            return _sorted_fraction(i, launch, rng) * USER_LEAD_TIME
        return USER_LEAD_TIME + _sorted_fraction(i - launch, n - launch, rng) * (self.last_off - USER_LEAD_TIME)

    def _user_rows(self) -> Iterator[Row]:
        return self._user_records(UserIndex())

    def _product_created_off(self, i: int, n: int, rng: random.Random) -> float:
        """80% of the catalogue exists in the window's first half hour; the rest is added over time."""
        launch = max(1, int(n * 0.8))
        if i == 0:
            return 0.0
        if i < launch:
            return _sorted_fraction(i, launch, rng) * USER_LEAD_TIME
        return USER_LEAD_TIME + _sorted_fraction(i - launch, n - launch, rng) * (self.last_off - USER_LEAD_TIME)

    def _product_records(self, index: ProductIndex | None = None) -> Iterator[Row]:
        rng = self._rng("products")
        n = self.options.products
        for i in range(n):
            created = self._product_created_off(i, n, rng)
            sku, name, category, brand, cents = product_row(rng, self.pools, i + 1)
            is_active = rng.random() >= 0.05
            # Deactivated products and price edits show up as later updates.
            changed = not is_active or rng.random() < 0.15
            updated = created + rng.random() * (self.span - 1 - created) if changed else created
            if index is not None:
                index.created_off.append(created)
                index.price_cents.append(cents)
            yield (i + 1, sku, name, category, brand, cents, is_active, self._ts(created), self._ts(updated))

    def _product_rows(self) -> Iterator[Row]:
        return self._product_records()

    # --- orders, items and events ----------------------------------------------------------------

    def _order_times(self, rng: random.Random) -> Iterator[float]:
        """Creation offsets of the orders, ascending: per day by ``orders_per_day``, within it by hour."""
        counts = self.orders_per_day()
        last_day = len(counts) - 1
        for d, n in enumerate(counts):
            low = FIRST_ORDER_OFFSET if d == 0 else 0.0
            high = DAY - END_MARGIN if d == last_day else DAY
            scale = (high - low) / DAY
            start = d * DAY + low
            for i in range(n):
                yield start + hour_quantile((i + rng.random()) / n) * scale

    def _item_counts(self) -> Iterator[int]:
        """Lines per order, replayed from the items' stream without the rest (dry run)."""
        rng = self._rng("order_item_counts")
        for _ in range(self.options.orders):
            yield PICK_ITEM_COUNT(rng)

    def order_stream(self) -> Iterator[tuple[Row, list[Row], list[Row]]]:
        """Each order's raw row with its items' and its events' raw rows, in order id order."""
        rng = self._rng("orders")
        item_rng = self._rng("order_items")
        count_rng = self._rng("order_item_counts")
        event_rng = self._rng("events")
        maker = EventMaker(event_rng, self._rng("dirty:events"), self.options.dirty_rate, self.base_us, self.last_off)
        users, products = self.user_index, self.product_index
        user_created, cum_prop = users.created_off, users.cum_propensity
        product_created, prices = products.created_off, products.price_cents
        span = self.span
        ts = self._ts
        last_order = array("d", [-math.inf]) * len(user_created)
        item_id = event_id = 0
        for order_idx, created in enumerate(self._order_times(rng)):
            order_id = order_idx + 1
            eligible = max(1, bisect.bisect_right(user_created, created - USER_LEAD_TIME))
            # Weighted by propensity, redrawn while the customer ordered less than MIN_REORDER_GAP ago.
            for _ in range(REORDER_DRAWS):
                user_idx = min(eligible - 1, bisect.bisect_right(cum_prop, rng.random() * cum_prop[eligible - 1]))
                if created - last_order[user_idx] >= MIN_REORDER_GAP:
                    break
            last_order[user_idx] = created
            status = status_for_age(rng, ORDER_STATUS_BY_AGE, ORDER_STATUS_DELAY, ORDER_STATUS_FALLBACK, span - created)
            payment = PICK_PAYMENT(rng)
            home = COUNTRIES[users.locale_idx[user_idx]]
            country = home if rng.random() < 0.95 else COUNTRIES[PICK_LOCALE(rng)]
            updated = self._later(rng, created, ORDER_STATUS_DELAY[status])
            created_us = ts(created)
            updated_us = ts(updated)
            order = (order_id, user_idx + 1, status, payment, country, created_us, created_us, updated_us)
            # Lines: the count comes from its own stream (cheap dry-run counts), the rest from the items'.
            count = PICK_ITEM_COUNT(count_rng)
            n_products = bisect.bisect_right(product_created, created)
            item_updated = updated_us if status in ("cancelled", "refunded") else created_us
            items = []
            for product_idx, qty, cents, discount in pick_items(item_rng, count, n_products, prices):
                item_id += 1
                items.append((item_id, order_id, product_idx + 1, qty, cents, discount, created_us, item_updated))
            events = []
            for event in order_events(
                event_rng, maker, order_id, user_idx + 1, user_created[user_idx], created, payment, items
            ):
                event_id += 1
                events.append((event_id, *event))
            yield order, items, events

    # --- CRM -------------------------------------------------------------------------------------

    def _crm_rows(self) -> Iterator[Row]:
        rng = self._rng("crm_contacts")
        users = self.user_index
        n = self.options.crm_contacts
        first, last = FIRST_ORDER_OFFSET, self.last_off
        for i in range(n):
            created = first + _growth_quantile(_sorted_fraction(i, n, rng)) * (last - first)
            status = status_for_age(rng, CRM_STATUS_BY_AGE, CRM_STATUS_DELAY, CRM_STATUS_FALLBACK, self.span - created)
            if rng.random() < CRM_CUSTOMER_SHARE:  # a customer ...
                idx = int(rng.random() * bisect.bisect_right(users.created_off, created))
                user_id: int | None = idx + 1
                email, loc_idx = self.user_email(idx), users.locale_idx[idx]
            else:  # ... or a prospect known by e-mail only
                user_id = None
                loc_idx, email = draw_prospect(rng, self.pools)
            channel = PICK_CRM_CHANNEL(rng)
            yield (
                i + 1,
                user_id,
                email,
                draw_crm_phone(rng, self.pools.locales[loc_idx], channel),
                channel,
                PICK_CRM_REASON(rng),
                status,
                self._ts(created),
                self._ts(self._later(rng, created, CRM_STATUS_DELAY[status])),
            )


def pick_items(
    rng: random.Random, count: int, eligible: int, price_cents: Sequence[int]
) -> list[tuple[int, int, int, int]]:
    """``count`` distinct lines among the first ``eligible`` products: (index, quantity, cents, discount).

    Squared draw: early (long-standing) products sell more, as bestsellers do.
    """
    if eligible < count:  # cannot happen in a history: 80% of the catalogue (>= 40) predates the first order
        raise RuntimeError(f"{eligible} products exist, {count} lines wanted")
    chosen: list[int] = []
    while len(chosen) < count:
        idx = int(eligible * rng.random() ** 2)
        if idx not in chosen:
            chosen.append(idx)
    lines = []
    for idx in chosen:
        qty = PICK_QUANTITY(rng)
        cents = price_cents[idx]
        discount = round(qty * cents * PICK_DISCOUNT_PCT(rng) / 100) if rng.random() < 0.12 else 0
        lines.append((idx, qty, cents, discount))
    return lines
