"""Deterministic generator of ShopStream's OLTP source: the rows of the six ``oltp`` tables.

Why it is built this way:

- Reproducible: the same ``GeneratorOptions`` give byte-identical rows on every run and machine, so a
  test, a benchmark or a demo can be replayed exactly. Each table draws from its own
  ``random.Random`` seeded with ``"<seed>:<stream>"``, so one table's rows do not depend on how much
  of another table was consumed.
- Memory bounded: orders, order items and events are produced as iterators. Only users and products
  are kept, as small lookup arrays (creation offsets, emails, prices), because every order, item,
  event and contact must point to one that already exists.
- Fast: Faker is slow (tens of microseconds a call), so it is only used to fill small pools of names,
  cities, phones and e-mail domains per locale once; rows then pick from the pools with the seeded
  ``Random``.
- Consistent: every foreign key points to a row created earlier, ``created_at`` lies in the history
  window ``[end_date - days, end_date)`` (UTC) and ``updated_at`` lies in ``[created_at, end_date)``.

Column names and table order come from ``include.shopstream.config``: rows are built as dicts and
turned into tuples in the configured column order, so the generator cannot silently drift from the
extraction's view of the tables.
"""

from __future__ import annotations

import bisect
import math
import random
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property, lru_cache
from itertools import accumulate, islice
from operator import itemgetter
from typing import Any

from faker import Faker

from include.shopstream.config import TABLES, TABLES_BY_NAME

Row = tuple[Any, ...]
RowDict = dict[str, Any]

DEFAULT_BATCH_SIZE = 10_000
HOUR = 3600.0
DAY = 86400.0
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
    Category(
        "fashion", "FAS", 9, 250, 20, ("T-Shirt", "Jeans", "Sneakers", "Jacket", "Scarf", "Dress", "Backpack")
    ),
    Category("beauty", "BEA", 4, 90, 10, ("Serum", "Moisturizer", "Shampoo", "Perfume", "Lipstick")),
    Category("sports", "SPO", 9, 600, 10, ("Yoga Mat", "Dumbbells", "Bike Helmet", "Running Shoes", "Tent")),
    Category("books", "BOO", 5, 60, 10, ("Novel", "Cookbook", "Travel Guide", "Comic", "Biography")),
    Category("toys", "TOY", 7, 150, 8, ("Puzzle", "Board Game", "Building Set", "Plush", "RC Car")),
    Category("grocery", "GRO", 2, 40, 9, ("Coffee", "Tea", "Olive Oil", "Chocolate", "Pasta", "Honey")),
)
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

ZERO_MONEY = Decimal("0.00")


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


def copy_columns(table: str) -> tuple[str, ...]:
    """The bare column names of a table, from the config's select list (``x::type as x`` -> ``x``)."""
    return tuple(_bare_column(c) for c in TABLES_BY_NAME[table].columns)


def _bare_column(expression: str) -> str:
    if " as " in expression:
        return expression.rsplit(" as ", 1)[1].strip()
    return expression.split("::", 1)[0].strip()


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


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _sorted_fraction(index: int, count: int, rng: random.Random) -> float:
    """The index-th of count sorted points in [0, 1): one per stratum, so ids grow with time."""
    return (index + rng.random()) / count


def _growth_quantile(q: float, base: float = 0.5) -> float:
    """Inverse CDF on [0, 1] of a density proportional to ``base + x``: activity grows with the user base."""
    return -base + math.sqrt(base * base + 2.0 * q * (base + 0.5))


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


@dataclass(frozen=True)
class GeneratorOptions:
    """What to generate. Sizes derive from ``orders``; the window is ``[end_date - days, end_date)`` UTC.

    ``end_date`` defaults to today (UTC): pass it explicitly for a reproducible data set.
    """

    orders: int = 2000
    days: int = 30
    end_date: date = field(default_factory=lambda: datetime.now(UTC).date())
    seed: int = 42

    def __post_init__(self) -> None:
        if self.orders <= 0:
            raise ValueError(f"orders must be > 0, got {self.orders}")
        if self.days <= 0:
            raise ValueError(f"days must be > 0, got {self.days}")

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


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """What items and events need to know about an order (kept for one order at a time)."""

    order_id: int
    user_id: int
    status: str
    payment_method: str
    shipping_country_code: str
    created_off: float
    updated_off: float


@dataclass(frozen=True, slots=True)
class ItemPlan:
    """One order line, before it becomes a row."""

    product_id: int
    quantity: int
    unit_price: Decimal
    price_cents: int
    discount_cents: int


@dataclass(frozen=True)
class UserIndex:
    """Users' creation offsets (sorted, for bisect), e-mails and locale indexes, by ``user_id - 1``."""

    created_off: list[float]
    emails: list[str]
    locale_idx: list[int]


@dataclass(frozen=True)
class ProductIndex:
    """Products' creation offsets (sorted) and prices, by ``product_id - 1``."""

    created_off: list[float]
    price_cents: list[int]
    prices: list[Decimal]


class OltpGenerator:
    """Rows of the six OLTP tables for one ``GeneratorOptions``; every call replays the same rows."""

    def __init__(self, options: GeneratorOptions) -> None:
        self.options = options
        self.start = options.window_start
        self.span = (options.window_end - options.window_start).total_seconds()
        self.last_off = self.span - END_MARGIN
        self.pools = build_pools(options.seed)
        self._row_builders: dict[str, Callable[[], Iterator[RowDict]]] = {
            "users": self._user_rows,
            "products": self._product_rows,
            "orders": self._order_rows,
            "order_items": self._item_rows,
            "events": self._event_rows,
            "crm_contacts": self._crm_rows,
        }
        missing = {t.name for t in TABLES} ^ set(self._row_builders)
        if missing:
            raise RuntimeError(f"generator and config disagree on tables: {sorted(missing)}")

    # --- public API ------------------------------------------------------------------------------

    def tables(self) -> tuple[str, ...]:
        """Table names in load order (the config's order, which respects foreign keys)."""
        return tuple(t.name for t in TABLES)

    def rows(self, table: str) -> Iterator[Row]:
        """Stream a table's rows as tuples in ``copy_columns(table)`` order."""
        to_tuple = itemgetter(*copy_columns(table))
        for row in self._row_builders[table]():
            yield to_tuple(row)

    def batches(self, table: str, size: int = DEFAULT_BATCH_SIZE) -> Iterator[list[Row]]:
        """Stream a table's rows in lists of at most ``size`` rows."""
        if size <= 0:
            raise ValueError("batch size must be > 0")
        rows = self.rows(table)
        while batch := list(islice(rows, size)):
            yield batch

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

    # --- helpers ---------------------------------------------------------------------------------

    def _rng(self, stream: str) -> random.Random:
        return random.Random(f"{self.options.seed}:{stream}")

    def _ts(self, offset: float) -> datetime:
        return self.start + timedelta(seconds=offset)

    def _later(self, rng: random.Random, created: float, delay: tuple[float, float]) -> float:
        """A change time ``delay`` after ``created``, cut short so that it stays before the window's end."""
        low, high = delay
        if high <= 0:
            return created
        room = self.span - 1.0 - created
        return created + rng.uniform(min(low, room), min(high, room))

    def _status(
        self,
        rng: random.Random,
        by_age: tuple[tuple[float, WeightedChoice], ...],
        delays: dict[str, tuple[float, float]],
        fallback: dict[str, str],
        created: float,
    ) -> str:
        """A status drawn by age, stepped back while its transition could not have happened yet.

        An order placed ten minutes before the window's end cannot be shipped: it falls back to paid or
        pending, so ``updated_at - created_at`` always reflects a plausible transition time.
        """
        status: str = _by_age(by_age, (self.span - created) / DAY)(rng)
        room = self.span - 1.0 - created
        while delays[status][0] > room:
            status = fallback[status]
        return status

    @cached_property
    def user_index(self) -> UserIndex:
        index = UserIndex([], [], [])
        for row in self._user_records():
            index.created_off.append(row["_created_off"])
            index.emails.append(row["email"])
            index.locale_idx.append(row["_locale_idx"])
        return index

    @cached_property
    def product_index(self) -> ProductIndex:
        index = ProductIndex([], [], [])
        for row in self._product_records():
            index.created_off.append(row["_created_off"])
            index.price_cents.append(row["_price_cents"])
            index.prices.append(row["unit_price"])
        return index

    # --- users and products ----------------------------------------------------------------------

    def _user_records(self) -> Iterator[RowDict]:
        rng = self._rng("users")
        n = self.options.users
        for i in range(n):
            created = 0.0 if i == 0 else _sorted_fraction(i, n, rng) * self.last_off
            updated = created if rng.random() < 0.75 else created + rng.random() * (self.span - 1 - created)
            loc_idx = PICK_LOCALE(rng)
            pool = self.pools.locales[loc_idx]
            f, la = int(rng.random() * POOL_SIZE), int(rng.random() * POOL_SIZE)
            domain = pool.email_domains[int(rng.random() * len(pool.email_domains))]
            yield {
                "user_id": i + 1,
                "email": f"{pool.first_slugs[f]}.{pool.last_slugs[la]}{i + 1}@{domain}",
                "first_name": pool.first_names[f],
                "last_name": pool.last_names[la],
                "country_code": pool.country_code,
                "city": pool.cities[int(rng.random() * len(pool.cities))],
                "signup_channel": PICK_SIGNUP_CHANNEL(rng),
                "created_at": self._ts(created),
                "updated_at": self._ts(updated),
                "_created_off": created,
                "_locale_idx": loc_idx,
            }

    def _user_rows(self) -> Iterator[RowDict]:
        return self._user_records()

    def _product_created_off(self, i: int, n: int, rng: random.Random) -> float:
        """80% of the catalogue exists in the window's first half hour; the rest is added over time."""
        launch = max(1, int(n * 0.8))
        if i == 0:
            return 0.0
        if i < launch:
            return _sorted_fraction(i, launch, rng) * USER_LEAD_TIME
        return USER_LEAD_TIME + _sorted_fraction(i - launch, n - launch, rng) * (
            self.last_off - USER_LEAD_TIME
        )

    def _product_records(self) -> Iterator[RowDict]:
        rng = self._rng("products")
        n = self.options.products
        brands = self.pools.brands
        for i in range(n):
            created = self._product_created_off(i, n, rng)
            cat: Category = PICK_CATEGORY(rng)
            units = math.exp(rng.uniform(math.log(cat.min_price), math.log(cat.max_price)))
            cents = max(1, int(units)) * 100 - 1
            is_active = rng.random() >= 0.05
            # Deactivated products and price edits show up as later updates.
            changed = not is_active or rng.random() < 0.15
            updated = created + rng.random() * (self.span - 1 - created) if changed else created
            yield {
                "product_id": i + 1,
                "sku": f"{cat.code}-{i + 1:06d}",
                "product_name": (
                    f"{brands[int(rng.random() * len(brands))]} "
                    f"{ADJECTIVES[int(rng.random() * len(ADJECTIVES))]} "
                    f"{cat.nouns[int(rng.random() * len(cat.nouns))]}"
                ),
                "category": cat.name,
                "brand": brands[int(rng.random() * len(brands))],
                "unit_price": _money(cents),
                "is_active": is_active,
                "created_at": self._ts(created),
                "updated_at": self._ts(updated),
                "_created_off": created,
                "_price_cents": cents,
            }

    def _product_rows(self) -> Iterator[RowDict]:
        return self._product_records()

    # --- orders and items ------------------------------------------------------------------------

    def _order_plans(self) -> Iterator[OrderPlan]:
        rng = self._rng("orders")
        n = self.options.orders
        users = self.user_index
        countries = [loc.country_code for loc in LOCALES]
        first, last = FIRST_ORDER_OFFSET, self.last_off
        for i in range(n):
            created = first + _growth_quantile(_sorted_fraction(i, n, rng)) * (last - first)
            eligible = bisect.bisect_right(users.created_off, created - USER_LEAD_TIME)
            user_idx = int(rng.random() * eligible)
            status = self._status(
                rng, ORDER_STATUS_BY_AGE, ORDER_STATUS_DELAY, ORDER_STATUS_FALLBACK, created
            )
            home = countries[users.locale_idx[user_idx]]
            yield OrderPlan(
                order_id=i + 1,
                user_id=user_idx + 1,
                status=status,
                payment_method=PICK_PAYMENT(rng),
                shipping_country_code=home if rng.random() < 0.95 else countries[PICK_LOCALE(rng)],
                created_off=created,
                updated_off=self._later(rng, created, ORDER_STATUS_DELAY[status]),
            )

    def _order_rows(self) -> Iterator[RowDict]:
        for plan in self._order_plans():
            created = self._ts(plan.created_off)
            yield {
                "order_id": plan.order_id,
                "user_id": plan.user_id,
                "order_status": plan.status,
                "payment_method": plan.payment_method,
                "shipping_country_code": plan.shipping_country_code,
                "ordered_at": created,
                "created_at": created,
                "updated_at": self._ts(plan.updated_off),
            }

    def _item_counts(self) -> Iterator[int]:
        """Lines per order, from their own stream so that counting them is cheap (dry run)."""
        rng = self._rng("order_item_counts")
        for _ in range(self.options.orders):
            yield PICK_ITEM_COUNT(rng)

    def _pick_items(self, rng: random.Random, plan: OrderPlan, count: int) -> list[ItemPlan]:
        products = self.product_index
        eligible = bisect.bisect_right(products.created_off, plan.created_off)
        if eligible < count:  # cannot happen: 80% of the catalogue (>= 40) predates the first order
            raise RuntimeError(f"order {plan.order_id}: {eligible} products exist, {count} lines wanted")
        chosen: list[int] = []
        while len(chosen) < count:
            # Squared draw: early (long-standing) products sell more, as bestsellers do.
            idx = int(eligible * rng.random() ** 2)
            if idx not in chosen:
                chosen.append(idx)
        items = []
        for idx in chosen:
            qty = PICK_QUANTITY(rng)
            cents = products.price_cents[idx]
            discount = (
                round(qty * cents * rng.choice((5, 10, 15, 20, 25)) / 100) if rng.random() < 0.12 else 0
            )
            items.append(ItemPlan(idx + 1, qty, products.prices[idx], cents, discount))
        return items

    def _orders_with_items(self) -> Iterator[tuple[OrderPlan, list[ItemPlan]]]:
        rng = self._rng("order_items")
        for plan, count in zip(self._order_plans(), self._item_counts(), strict=True):
            yield plan, self._pick_items(rng, plan, count)

    def _item_rows(self) -> Iterator[RowDict]:
        item_id = 0
        for plan, items in self._orders_with_items():
            created = self._ts(plan.created_off)
            touched = plan.status in ("cancelled", "refunded")
            updated = self._ts(plan.updated_off) if touched else created
            for item in items:
                item_id += 1
                yield {
                    "order_item_id": item_id,
                    "order_id": plan.order_id,
                    "product_id": item.product_id,
                    "quantity": item.quantity,
                    "unit_price": item.unit_price,
                    "discount_amount": _money(item.discount_cents) if item.discount_cents else ZERO_MONEY,
                    "created_at": created,
                    "updated_at": updated,
                }

    # --- events ----------------------------------------------------------------------------------

    def _event_rows(self) -> Iterator[RowDict]:
        """Per order: one browsing event in the hours before, then the four steps of the purchase."""
        rng = self._rng("events")
        users = self.user_index
        event_id = 0
        for plan, items in self._orders_with_items():
            user_created = users.created_off[plan.user_id - 1]
            for occurred, user_id, session, event_type, payload in (
                self._browse_event(rng, plan, user_created, items),
                *self._purchase_session(rng, plan, items),
            ):
                event_id += 1
                ts = self._ts(occurred)
                yield {
                    "event_id": event_id,
                    "user_id": user_id,
                    "session_id": session,
                    "event_type": event_type,
                    "occurred_at": ts,
                    "payload": payload,
                    "created_at": ts,
                    "updated_at": ts,
                }

    @staticmethod
    def _session_id(rng: random.Random) -> str:
        return f"{rng.getrandbits(64):016x}"

    def _browse_event(
        self, rng: random.Random, plan: OrderPlan, user_created: float, items: list[ItemPlan]
    ) -> tuple[float, int | None, str, str, dict[str, Any]]:
        occurred = max(0.0, plan.created_off - rng.random() * 6 * HOUR)
        known = occurred >= user_created and rng.random() >= 0.25
        event_type: str = PICK_BROWSE_EVENT(rng)
        device = DEVICES[int(rng.random() * len(DEVICES))]
        payload: dict[str, Any]
        if event_type == "page_view":
            cat = CATEGORIES[int(rng.random() * len(CATEGORIES))]
            payload = {
                "device": device,
                "url": f"/c/{cat.name}",
                "referrer": REFERRERS[int(rng.random() * 6)],
            }
        elif event_type == "search":
            cat = CATEGORIES[int(rng.random() * len(CATEGORIES))]
            noun = cat.nouns[int(rng.random() * len(cat.nouns))]
            payload = {"device": device, "query": noun.lower(), "results": int(rng.random() * 120)}
        else:
            pid = items[0].product_id
            payload = {"device": device, "url": f"/p/{pid}", "product_id": pid}
        return occurred, plan.user_id if known else None, self._session_id(rng), event_type, payload

    def _purchase_session(
        self, rng: random.Random, plan: OrderPlan, items: list[ItemPlan]
    ) -> list[tuple[float, int | None, str, str, dict[str, Any]]]:
        session = self._session_id(rng)
        device = DEVICES[int(rng.random() * len(DEVICES))]
        first = items[0]
        value_cents = sum(i.quantity * i.price_cents - i.discount_cents for i in items)
        t_purchase = plan.created_off
        t_checkout = t_purchase - rng.uniform(30, 300)
        t_cart = t_checkout - rng.uniform(10, 600)
        t_view = t_cart - rng.uniform(5, 180)
        uid = plan.user_id
        url = f"/p/{first.product_id}"
        return [
            (
                t_view,
                uid,
                session,
                "product_view",
                {"device": device, "url": url, "product_id": first.product_id},
            ),
            (
                t_cart,
                uid,
                session,
                "add_to_cart",
                {"device": device, "product_id": first.product_id, "quantity": first.quantity},
            ),
            (
                t_checkout,
                uid,
                session,
                "checkout_started",
                {"device": device, "items": len(items), "cart_value": round(value_cents / 100, 2)},
            ),
            (
                t_purchase,
                uid,
                session,
                "purchase",
                {
                    "device": device,
                    "order_id": plan.order_id,
                    "value": round(value_cents / 100, 2),
                    "payment_method": plan.payment_method,
                },
            ),
        ]

    # --- CRM -------------------------------------------------------------------------------------

    def _crm_rows(self) -> Iterator[RowDict]:
        rng = self._rng("crm_contacts")
        users = self.user_index
        n = self.options.crm_contacts
        first, last = FIRST_ORDER_OFFSET, self.last_off
        for i in range(n):
            created = first + _growth_quantile(_sorted_fraction(i, n, rng)) * (last - first)
            user_id, email, loc_idx = self._crm_person(rng, users, created)
            pool = self.pools.locales[loc_idx]
            status = self._status(rng, CRM_STATUS_BY_AGE, CRM_STATUS_DELAY, CRM_STATUS_FALLBACK, created)
            channel = PICK_CRM_CHANNEL(rng)
            has_phone = channel == "phone" or rng.random() < 0.3
            yield {
                "contact_id": i + 1,
                "user_id": user_id,
                "email": email,
                "phone": pool.phones[int(rng.random() * len(pool.phones))] if has_phone else None,
                "channel": channel,
                "contact_reason": PICK_CRM_REASON(rng),
                "contact_status": status,
                "created_at": self._ts(created),
                "updated_at": self._ts(self._later(rng, created, CRM_STATUS_DELAY[status])),
            }

    def _crm_person(
        self, rng: random.Random, users: UserIndex, created: float
    ) -> tuple[int | None, str, int]:
        """85% of contacts come from a customer; the rest are prospects known by e-mail only."""
        if rng.random() < 0.85:
            idx = int(rng.random() * bisect.bisect_right(users.created_off, created))
            return idx + 1, users.emails[idx], users.locale_idx[idx]
        loc_idx = PICK_LOCALE(rng)
        pool = self.pools.locales[loc_idx]
        f, la = int(rng.random() * POOL_SIZE), int(rng.random() * POOL_SIZE)
        domain = pool.email_domains[int(rng.random() * len(pool.email_domains))]
        return None, f"{pool.first_slugs[f]}.{pool.last_slugs[la]}@{domain}", loc_idx
