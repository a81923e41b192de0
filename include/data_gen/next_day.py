"""Simulate one more day of the shop in an existing source database ("next day" mode).

The day is the one after the latest day present (the UTC date of the newest ``updated_at``), or an
explicit later day. Everything it writes is stamped inside that day, so the DAG's run for that data
interval has real changes to extract and dbt snapshots have real history to record:

- inserts: new users, a new product now and then, new orders (count: the recent daily average, scaled
  by the weekday and the season, unless given) with their items and events, new CRM contacts, and a
  few late events (received that day, occurred the day before); ids continue after ``max(id)``;
- updates: open orders move one step along their lifecycle (``ORDER_TRANSITIONS``; cancelled and
  refunded orders touch their items too), CRM contacts along theirs, ~1% of active products change
  price, a few are withdrawn, ~0.3% of users move city. Updates set ``updated_at`` themselves (a
  simulated time in the day): the trigger only stamps ``now()`` when a writer leaves it unchanged;
- hard deletes: a few accounts erased (``ERASED_USERS_PER_DAY`` users without orders, with their
  events and CRM contacts) and a few test orders purged (``PURGED_ORDERS_PER_DAY`` pending orders,
  with their items), chosen among rows the day did not touch. The source's delete trigger records
  each deleted row in ``oltp.deleted_rows``; the simulator then stamps those records, like its
  updates, with a simulated time in the day (the trigger's ``clock_timestamp()`` is the real time).

Deterministic: the same database state, seed and day give the same writes (random streams are seeded
with ``"<seed>:<day>:<stream>"``, rows are read in key order). Foreign keys stay in place and rows go
in parent-first order. One transaction: a failure leaves the database as it was.
"""

from __future__ import annotations

import bisect
import random
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from include.data_gen.encoding import ts_from_datetime
from include.data_gen.generator import (
    CRM_CUSTOMER_SHARE,
    CRM_STATUS_DELAY,
    DAY,
    DEVICES,
    HOUR,
    LOCALES,
    ORDER_STATUS_DELAY,
    PICK_BROWSE_EVENT,
    PICK_CRM_CHANNEL,
    PICK_CRM_REASON,
    PICK_PAYMENT,
    PICK_SIGNUP_CHANNEL,
    US,
    USER_LEAD_TIME,
    EventMaker,
    base_email,
    blank_names,
    browse_body,
    build_pools,
    day_factor,
    draw_crm_phone,
    draw_person,
    draw_prospect,
    email_variant,
    hour_quantile,
    order_events,
    pick_items,
    product_row,
    propensity,
    seed_key,
    session_id,
)
from include.data_gen.loader import LoadError, RowSink, apply_ddl, connect, copy_statement, reset_identity
from include.shopstream.config import DELETED_ROWS, GENERATOR_SEED, SOURCE_SCHEMA, TABLES

NEW_USERS_PER_ORDER = 0.2
CRM_PER_ORDER = 0.1
PRICE_CHANGE_RATE = 0.01
WITHDRAW_RATE = 0.002
USER_MOVE_RATE = 0.003
REFUND_WINDOW_DAYS = 30
# Hard deletes per day: accounts erased on request (users without orders) and test orders purged
# (pending orders), each with the rows that depend on them.
ERASED_USERS_PER_DAY = 2
PURGED_ORDERS_PER_DAY = 2
# Per-day probabilities of each lifecycle step, by current status.
ORDER_STEP_PROBABILITIES: dict[str, tuple[tuple[str, float], ...]] = {
    "pending": (("paid", 0.75), ("cancelled", 0.15)),
    "paid": (("shipped", 0.6), ("cancelled", 0.03)),
    "shipped": (("delivered", 0.45),),
    "delivered": (("refunded", 0.004),),
}
CRM_STEP_PROBABILITIES: dict[str, tuple[tuple[str, float], ...]] = {
    "open": (("pending", 0.4), ("resolved", 0.2)),
    "pending": (("resolved", 0.5),),
}


class EmptySourceError(LoadError):
    """Next-day mode needs a history to continue."""


class DayAlreadyPresentError(LoadError):
    """The requested day is not after the latest day in the database."""


@dataclass
class NextDayReport:
    day: date
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    skipped: str = ""

    def format(self) -> str:
        if self.skipped:
            return f"next day {self.day}: skipped ({self.skipped})"
        lines = [f"next day {self.day}: {'table':<14} {'inserted':>9} {'updated':>9} {'deleted':>9}"]
        for table in (t.name for t in TABLES):
            ins, upd, dele = self.inserted.get(table, 0), self.updated.get(table, 0), self.deleted.get(table, 0)
            lines.append(f"{'':<20}{table:<14} {ins:>9,} {upd:>9,} {dele:>9,}")
        rows = sum(self.inserted.values()) + sum(self.updated.values()) + sum(self.deleted.values())
        rate = rows / self.seconds if self.seconds else 0.0
        lines.append(f"{'':<20}{'total':<14} {rows:>29,} rows in {self.seconds:.2f} s ({rate:,.0f} rows/s)")
        return "\n".join(lines)


def _q(table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(SOURCE_SCHEMA), sql.Identifier(table))


def latest_day(conn: psycopg.Connection) -> date | None:
    """The UTC date of the newest ``updated_at`` in the six tables (None when they are all empty)."""
    parts = sql.SQL(" union all ").join(sql.SQL("select max(updated_at) m from {}").format(_q(t.name)) for t in TABLES)
    row = conn.execute(sql.SQL("select max(m) from ({}) x").format(parts)).fetchone()
    if row is None or row[0] is None:
        return None
    return row[0].astimezone(UTC).date()


def simulate_next_day(
    conninfo: str,
    *,
    seed: int = GENERATOR_SEED,
    day: date | None = None,
    orders: int | None = None,
    dirty_rate: float = 0.0,
    skip_if_present: bool = False,
    log: Callable[[str], None] = print,
) -> NextDayReport:
    """Simulate ``day`` (default: the day after the latest present) in one transaction."""
    if not 0.0 <= dirty_rate <= 0.5:
        raise LoadError(f"--dirty-rate must be within [0, 0.5], got {dirty_rate}")
    started = time.perf_counter()
    with connect(conninfo) as conn, conn.transaction():
        apply_ddl(conn)
        latest = latest_day(conn)
        if latest is None:
            raise EmptySourceError(
                f"{SOURCE_SCHEMA} tables are empty: next-day mode continues a history; generate one first "
                "(python -m include.data_gen --orders N --days D --end-date YYYY-MM-DD)"
            )
        target = day or latest + timedelta(days=1)
        if target <= latest:
            message = f"{target} is not after the latest day present ({latest}): it was simulated already"
            if skip_if_present:
                return NextDayReport(target, skipped=message)
            raise DayAlreadyPresentError(f"{message}; pick a later --day (or omit --day for {latest + timedelta(1)})")
        report = DaySimulator(conn, seed, target, orders, dirty_rate, log).run()
    report.seconds = time.perf_counter() - started
    return report


class DaySimulator:
    """One day's inserts and updates, computed from the database's state and ``(seed, day)``."""

    def __init__(
        self,
        conn: psycopg.Connection,
        seed: int,
        day: date,
        orders: int | None,
        dirty_rate: float,
        log: Callable[[str], None],
    ) -> None:
        self.conn = conn
        self.seed = seed
        self.day = day
        self.orders = orders
        self.dirty_rate = dirty_rate
        self.log = log
        self.start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        self.start_epoch = self.start.timestamp()
        self.base_us = ts_from_datetime(self.start)
        self.limit = DAY - 1.0
        self.pools = build_pools(seed)
        self.key = seed_key(seed)
        self.report = NextDayReport(day)

    def rng(self, stream: str) -> random.Random:
        return random.Random(f"{self.seed}:{self.day.isoformat()}:{stream}")

    def ts(self, offset: float) -> int:
        return self.base_us + int(offset * US)

    def fetch(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(query.format(s=SOURCE_SCHEMA), params).fetchall()  # type: ignore[arg-type]

    def offset(self, epoch: Any) -> float:
        return float(epoch) - self.start_epoch

    # --- the day -----------------------------------------------------------------------------------

    def run(self) -> NextDayReport:
        max_ids = {t.name: self.max_id(t.name, t.primary_key) for t in TABLES}
        inserts: dict[str, list[tuple[Any, ...]]] = {t.name: [] for t in TABLES}
        n_orders = self.orders if self.orders is not None else self.daily_orders()
        users = self.new_users(max_ids["users"], round(n_orders * NEW_USERS_PER_ORDER) or 1, inserts["users"])
        inserts["products"] = self.new_products(max_ids["products"])
        self.new_orders(n_orders, users, max_ids, inserts)
        self.late_events(users, max_ids["events"] + len(inserts["events"]), inserts["events"])
        inserts["crm_contacts"] = self.new_contacts(round(n_orders * CRM_PER_ORDER), users, max_ids["crm_contacts"])
        for table in (t.name for t in TABLES):  # parents first: the foreign keys stay in place
            rows = inserts[table]
            if rows:
                with self.conn.cursor() as cur, cur.copy(copy_statement(table)) as copy:
                    sink = RowSink(table, copy.write, 10_000)
                    sink.add_many(rows)
                    sink.flush()
                reset_identity(self.conn, table)
            self.report.inserted[table] = len(rows)
        # Deletes first: a test order is purged while still pending, before the day's lifecycle steps.
        self.delete_rows()
        self.update_orders()
        self.update_products()
        self.update_users()
        self.update_contacts()
        return self.report

    def max_id(self, table: str, pk: str) -> int:
        query = sql.SQL("select coalesce(max({}), 0) from {}").format(sql.Identifier(pk), _q(table))
        row = self.conn.execute(query).fetchone()
        return int(row[0]) if row else 0

    def daily_orders(self) -> int:
        """The recent daily average (up to 28 days), seasonally adjusted, scaled to this day's factor."""
        rows = self.fetch(
            "select (created_at at time zone 'UTC')::date, count(*) from {s}.orders "
            "where created_at >= %s group by 1 order by 1",
            (self.start - timedelta(days=28),),
        )
        if not rows:
            return 10
        base = sum(n / day_factor(d) for d, n in rows) / len(rows)
        return max(1, round(base * day_factor(self.day) * 1.002))

    # --- inserts -----------------------------------------------------------------------------------

    def new_users(self, max_id: int, count: int, out: list[tuple[Any, ...]]) -> UserPool:
        """Existing users (for picks) plus ``count`` new ones signing up during the day."""
        pool = UserPool()
        for user_id, created, country in self.fetch(
            "select user_id, extract(epoch from created_at), country_code from {s}.users order by user_id"
        ):
            pool.add(user_id, self.offset(created), country, propensity(self.key, user_id))
        rng, dirty = self.rng("users"), self.rng("dirty:users")
        existing = len(pool.ids)
        for i in range(count):
            user_id = max_id + i + 1
            created = hour_quantile((i + rng.random()) / count)
            loc_idx, f, la, dom = draw_person(rng, self.pools)
            locale = self.pools.locales[loc_idx]
            email = base_email(self.pools, loc_idx, f, la, dom, user_id)
            first, last = locale.first_names[f], locale.last_names[la]
            if self.dirty_rate and existing:
                if dirty.random() < self.dirty_rate:  # (a): an existing user's address, case/space changed
                    other = pool.ids[int(dirty.random() * existing)]
                    row = self.fetch("select lower(trim(email)) from {s}.users where user_id = %s", (other,))
                    email = email_variant(row[0][0], int(dirty.random() * 4))
                if dirty.random() < self.dirty_rate:  # (b)
                    first, last = blank_names(dirty, first, last)
            city = locale.cities[int(rng.random() * len(locale.cities))]
            ts = self.ts(created)
            out.append((user_id, email, first, last, locale.country_code, city, PICK_SIGNUP_CHANNEL(rng), ts, ts))
            pool.add(user_id, created, locale.country_code, propensity(self.key, user_id), email)
        return pool

    def new_products(self, max_id: int) -> list[tuple[Any, ...]]:
        rng = self.rng("products")
        rows = []
        count = 1 + int(rng.random() * max(1.0, max_id / 250))  # the catalogue grows by ~0.2% a day
        for i in range(count):
            product_id = max_id + i + 1
            sku, name, category, brand, cents = product_row(rng, self.pools, product_id)
            ts = self.ts((i + rng.random()) / count * self.limit)
            rows.append((product_id, sku, name, category, brand, cents, True, ts, ts))
        return rows

    def new_orders(
        self, count: int, users: UserPool, max_ids: dict[str, int], inserts: dict[str, list[tuple[Any, ...]]]
    ) -> None:
        products = self.fetch(
            "select product_id, (unit_price * 100)::bigint from {s}.products "
            "where is_active and created_at < %s order by product_id",
            (self.start,),
        )
        if not products:
            raise LoadError("no active product exists before the day: cannot place orders")
        product_ids = [p[0] for p in products]
        prices = array("q", (p[1] for p in products))
        rng, item_rng, event_rng = self.rng("orders"), self.rng("order_items"), self.rng("events")
        maker = EventMaker(event_rng, self.rng("dirty:events"), self.dirty_rate, self.base_us, self.limit)
        countries = [loc.country_code for loc in LOCALES]
        order_id, item_id, event_id = max_ids["orders"], max_ids["order_items"], max_ids["events"]
        for i in range(count):
            created = hour_quantile((i + rng.random()) / count)
            idx = users.pick(rng, created - USER_LEAD_TIME)
            user_id = users.ids[idx]
            # A same-day order is at most paid or cancelled by midnight (pending if placed late).
            r = rng.random()
            status = "paid" if r < 0.8 else ("cancelled" if r < 0.88 else "pending")
            low, high = ORDER_STATUS_DELAY[status]
            updated = min(self.limit, created + low + rng.random() * (high - low)) if high else created
            if updated < created + low:
                status, updated = "pending", created
            payment = PICK_PAYMENT(rng)
            home = users.countries[idx]
            country = home if rng.random() < 0.95 else countries[int(rng.random() * len(countries))]
            order_id += 1
            c_us, u_us = self.ts(created), self.ts(updated)
            inserts["orders"].append((order_id, user_id, status, payment, country, c_us, c_us, u_us))
            count_lines = max(1, min(len(product_ids), 1 + int(rng.random() ** 1.6 * 5)))
            items = []
            for p_idx, qty, cents, discount in pick_items(item_rng, count_lines, len(product_ids), prices):
                item_id += 1
                touched = u_us if status == "cancelled" else c_us
                items.append((item_id, order_id, product_ids[p_idx], qty, cents, discount, c_us, touched))
            inserts["order_items"].extend(items)
            for event in order_events(event_rng, maker, order_id, user_id, users.created[idx], created, payment, items):
                event_id += 1
                inserts["events"].append((event_id, *self.received_today(event)))

    def received_today(self, event: tuple[Any, ...]) -> tuple[Any, ...]:
        """An event of an early-morning order's session may have happened before midnight; the server
        receives it today at the earliest. Its server stamps (created_at, updated_at) must fall inside
        the simulated day, or no daily extraction would ever see it: it keeps its client occurred_at."""
        start = self.ts(0)
        if event[5] >= start:
            return event
        return (*event[:5], start, start)

    def late_events(self, users: UserPool, max_id: int, out: list[tuple[Any, ...]]) -> None:
        """Events received today that happened yesterday (an app syncing after being offline)."""
        rng = self.rng("late_events")
        count = round(len(out) * 0.02)
        for i in range(count):
            received = rng.random() * 8 * HOUR
            occurred = received - (HOUR + rng.random() * 11 * HOUR)
            idx = users.pick(rng, occurred)
            event_type = PICK_BROWSE_EVENT(rng)
            device = DEVICES[3 + int(rng.random() * 2)]  # the app queues, the browser does not
            body = browse_body(rng, event_type, 1 + int(rng.random() * 50))
            ts = self.ts(received)
            payload = f'{{"device": "{device}", {body}}}'
            out.append(
                (max_id + i + 1, users.ids[idx], session_id(rng), event_type, self.ts(occurred), payload, ts, ts)
            )

    def new_contacts(self, count: int, users: UserPool, max_id: int) -> list[tuple[Any, ...]]:
        rng = self.rng("crm_contacts")
        rows = []
        for i in range(count):
            created = hour_quantile((i + rng.random()) / count)
            if rng.random() < CRM_CUSTOMER_SHARE:
                idx = users.pick(rng, created)
                user_id: int | None = users.ids[idx]
                email = users.email(self, idx)
                loc_idx = next(k for k, loc in enumerate(LOCALES) if loc.country_code == users.countries[idx])
            else:
                user_id = None
                loc_idx, email = draw_prospect(rng, self.pools)
            channel = PICK_CRM_CHANNEL(rng)
            phone = draw_crm_phone(rng, self.pools.locales[loc_idx], channel)
            low, high = CRM_STATUS_DELAY["pending"]
            moved = rng.random() < 0.3 and created + low < self.limit
            status = "pending" if moved else "open"
            updated = min(self.limit, created + low + rng.random() * (high - low)) if moved else created
            c_us = self.ts(created)
            rows.append(
                (max_id + i + 1, user_id, email, phone, channel, PICK_CRM_REASON(rng), status, c_us, self.ts(updated))
            )
        return rows

    # --- updates -----------------------------------------------------------------------------------

    def when(self, rng: random.Random) -> datetime:
        return self.start + timedelta(microseconds=int(rng.random() * self.limit * US))

    def step_statuses(
        self, rng: random.Random, rows: list[tuple[Any, ...]], steps: dict[str, tuple[tuple[str, float], ...]]
    ) -> list[tuple[str, datetime, int]]:
        """Move each ``(key, status)`` row to a next status drawn from ``steps[status]`` (``(status,
        probability)`` pairs; what they leave is the chance to stay): ``(new status, when, key)`` of the
        rows that moved, in the rows' order."""
        changes = []
        for key, status in rows:
            r, cum = rng.random(), 0.0
            for new_status, p in steps[status]:
                cum += p
                if r < cum:
                    changes.append((new_status, self.when(rng), key))
                    break
        return changes

    def update_orders(self) -> None:
        rng = self.rng("order_updates")
        rows = self.fetch(
            "select order_id, order_status from {s}.orders where created_at < %s and "
            "(order_status in ('pending', 'paid', 'shipped') or (order_status = 'delivered' and updated_at >= %s)) "
            "order by order_id",
            (self.start, self.start - timedelta(days=REFUND_WINDOW_DAYS)),
        )
        changes = self.step_statuses(rng, rows, ORDER_STEP_PROBABILITIES)
        with self.conn.cursor() as cur:
            cur.executemany(
                f"update {SOURCE_SCHEMA}.orders set order_status = %s, updated_at = %s where order_id = %s", changes
            )
            touched = [(when, oid) for status, when, oid in changes if status in ("cancelled", "refunded")]
            cur.executemany(f"update {SOURCE_SCHEMA}.order_items set updated_at = %s where order_id = %s", touched)
        self.report.updated["orders"] = len(changes)
        self.report.updated["order_items"] = (
            self.fetch(
                "select count(*) from {s}.order_items where updated_at >= %s and created_at < %s",
                (self.start, self.start),
            )[0][0]
            if touched
            else 0
        )

    def update_products(self) -> None:
        rng = self.rng("product_updates")
        rows = self.fetch(
            "select product_id, (unit_price * 100)::bigint from {s}.products where is_active and created_at < %s "
            "order by product_id",
            (self.start,),
        )
        price_changes, withdrawn = [], []
        for product_id, cents in rows:
            r = rng.random()
            if r < PRICE_CHANGE_RATE:
                factor = 1.0 + (0.05 + rng.random() * 0.15) * (1 if rng.random() < 0.6 else -1)
                units = max(1, int((cents + 1) / 100 * factor))
                price_changes.append((units * 100 - 1, self.when(rng), product_id))
            elif r < PRICE_CHANGE_RATE + WITHDRAW_RATE:
                withdrawn.append((self.when(rng), product_id))
        with self.conn.cursor() as cur:
            cur.executemany(
                f"update {SOURCE_SCHEMA}.products set unit_price = %s::numeric / 100, updated_at = %s "
                "where product_id = %s",
                price_changes,
            )
            cur.executemany(
                f"update {SOURCE_SCHEMA}.products set is_active = false, updated_at = %s where product_id = %s",
                withdrawn,
            )
        self.report.updated["products"] = len(price_changes) + len(withdrawn)

    def update_users(self) -> None:
        rng = self.rng("user_updates")
        cities = {loc.country_code: self.pools.locales[k].cities for k, loc in enumerate(LOCALES)}
        rows = self.fetch(
            "select user_id, country_code from {s}.users where created_at < %s order by user_id", (self.start,)
        )
        moves = []
        for user_id, country in rows:
            if rng.random() < USER_MOVE_RATE and country in cities:
                city = cities[country][int(rng.random() * len(cities[country]))]
                moves.append((city, self.when(rng), user_id))
        with self.conn.cursor() as cur:
            cur.executemany(f"update {SOURCE_SCHEMA}.users set city = %s, updated_at = %s where user_id = %s", moves)
        self.report.updated["users"] = len(moves)

    def update_contacts(self) -> None:
        unresolved = self.fetch(
            "select contact_id, contact_status from {s}.crm_contacts "
            "where created_at < %s and contact_status in ('open', 'pending') order by contact_id",
            (self.start,),
        )
        changes = self.step_statuses(self.rng("crm_updates"), unresolved, CRM_STEP_PROBABILITIES)
        with self.conn.cursor() as cur:
            cur.executemany(
                f"update {SOURCE_SCHEMA}.crm_contacts set contact_status = %s, updated_at = %s where contact_id = %s",
                changes,
            )
        self.report.updated["crm_contacts"] = len(changes)


    # --- hard deletes ------------------------------------------------------------------------------

    def delete_rows(self) -> None:
        """Erase a few accounts and purge a few test orders; stamp their delete records in the day.

        Candidates are rows the day has not touched (``updated_at`` before the day; the day's updates
        come after), so each delete record's ``deleted_at`` (a simulated time in the day) follows the
        row's last change. Children go first: the foreign keys stay in place.
        """
        rng = self.rng("deletes")
        users = [row[0] for row in self.fetch(
            "select user_id from {s}.users u where updated_at < %s "
            "and not exists (select 1 from {s}.orders o where o.user_id = u.user_id) "
            "and not exists (select 1 from {s}.events e where e.user_id = u.user_id and e.updated_at >= %s) "
            "and not exists (select 1 from {s}.crm_contacts c where c.user_id = u.user_id and c.updated_at >= %s) "
            "order by user_id",
            (self.start, self.start, self.start),
        )]
        orders = [row[0] for row in self.fetch(
            "select order_id from {s}.orders o where order_status = 'pending' and updated_at < %s "
            "and not exists (select 1 from {s}.order_items i where i.order_id = o.order_id and i.updated_at >= %s) "
            "order by order_id",
            (self.start, self.start),
        )]
        erased = sorted(rng.sample(users, min(ERASED_USERS_PER_DAY, len(users))))
        purged = sorted(rng.sample(orders, min(PURGED_ORDERS_PER_DAY, len(orders))))
        first_record = self.max_id(DELETED_ROWS.name, DELETED_ROWS.primary_key)
        for table, column, keys in (
            ("events", "user_id", erased),
            ("crm_contacts", "user_id", erased),
            ("users", "user_id", erased),
            ("order_items", "order_id", purged),
            ("orders", "order_id", purged),
        ):
            query = sql.SQL("delete from {} where {} = any(%s)").format(_q(table), sql.Identifier(column))
            deleted = self.conn.execute(query, (keys,)).rowcount if keys else 0
            self.report.deleted[table] = self.report.deleted.get(table, 0) + deleted
        # The trigger stamped the real time; the simulated day needs its own (one moment per day).
        self.conn.execute(
            sql.SQL("update {} set deleted_at = %s where {} > %s").format(
                _q(DELETED_ROWS.name), sql.Identifier(DELETED_ROWS.primary_key)
            ),
            (self.when(rng), first_record),
        )


class UserPool:
    """Users a day's rows may point to: ids, creation offsets (from the day's start), propensities."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.created = array("d")
        self.cum = array("d")
        self.countries: list[str] = []
        self.emails: dict[int, str] = {}

    def add(self, user_id: int, created: float, country: str, weight: float, email: str | None = None) -> None:
        self.ids.append(user_id)
        self.created.append(created)
        self.cum.append((self.cum[-1] if self.cum else 0.0) + weight)
        self.countries.append(country)
        if email is not None:
            self.emails[len(self.ids) - 1] = email

    def pick(self, rng: random.Random, before: float) -> int:
        """A user created before ``before``, weighted by propensity (the first user if none is)."""
        eligible = max(1, bisect.bisect_right(self.created, before))
        return min(eligible - 1, bisect.bisect_right(self.cum, rng.random() * self.cum[eligible - 1]))

    def email(self, sim: DaySimulator, idx: int) -> str:
        if idx not in self.emails:
            self.emails[idx] = sim.fetch("select email from {s}.users where user_id = %s", (self.ids[idx],))[0][0]
        return self.emails[idx]
