"""The dbt project built end to end on the embedded Snowflake emulator, in a database of its own.

A small deterministic source (two extractions, then a third with changes and hard deletes, then a
backfill of an older day) is written straight into RAW tables made from
include/sql/snowflake/raw_objects.sql; `dbt build` runs twice (the second run is incremental and
takes the snapshots' second versions), then once more for the facts and what reads them after the
older day's file. The test then proves:

- the build passes: models, snapshots, data tests and unit tests (warn-level dirty-data tests warn);
- the snapshots hold a second version of the changed rows (SCD type 2), and close the version of a
  row deleted in the source (`hard_deletes: invalidate`);
- a deleted user and a deleted order are flagged in staging and gone from the dimensions, the facts
  and revenue;
- the incremental models (staging of the history, sessionised events, facts), which select rows by
  load watermark, equal a `--full-refresh` rebuild by content (a hash of sorted rows) after an older
  day was loaded after a newer one;
- average basket, ABC classes and RFM scores equal values computed here, in Python, from the
  inserted source rows.

Timestamps are compared in SQL only: the emulator's server shows NULL timestamps as 1970-01-01.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from embedded.environment import SNOWFLAKE_ACCOUNT
from embedded.settings import StackSettings
from include.shopstream import dbt_manifest
from include.shopstream.config import (
    DBT_PROJECT_DIR,
    EMBEDDED_DBT_TARGET,
    RAW_SCHEMA,
    SNOWFLAKE_DATABASE_ENV,
    dbt_executable,
)
from include.shopstream.load import raw_objects_sql

pytestmark = pytest.mark.integration

DATABASE = "SHOPSTREAM_DBT_TEST"
REVENUE_STATUSES = {"paid", "shipped", "delivered"}
CENT = Decimal("0.01")

Row = dict[str, Any]


# --- the source data set ---------------------------------------------------------------------------


@dataclass
class SourceData:
    """RAW rows per table (every extracted version), in insertion order."""

    rows: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))

    def deleted(self, table: str) -> set[Any]:
        """The keys of ``table`` the source's delete log names (RAW.DELETED_ROWS)."""
        return {r["row_id"] for r in self.rows["deleted_rows"] if r["table_name"] == table}

    def add(self, table: str, source_file: str, loaded_at: datetime, **values: Any) -> None:
        self.rows[table].append({**values, "_source_file": source_file, "_loaded_at": loaded_at})

    def latest(self, table: str, key: str) -> dict[Any, Row]:
        """The latest version of each live row, as staging keeps it (rows deleted in the source left out)."""
        best: dict[Any, Row] = {}
        for row in self.rows[table]:
            seen = best.get(row[key])
            if seen is None or (row["updated_at"], row["_loaded_at"]) > (seen["updated_at"], seen["_loaded_at"]):
                best[row[key]] = row
        gone = self.deleted(table)
        return {k: v for k, v in best.items() if k not in gone}


def _ts(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 1, 1, hour, minute) + timedelta(days=day - 1)


CATEGORIES = ("Books", "Garden", "Toys")
COUNTRIES = ("FR", "DE", "ES")
STATUS_CYCLE = ("delivered", "paid", "shipped", "pending", "cancelled", "delivered", "refunded", "paid")


def first_extractions() -> SourceData:
    """Days 1 and 2 of the shop: 12 users, 8 products, 36 orders, events, CRM contacts.

    Dirty data of every kind the generator produces: two e-mails differing in case and spaces, blank
    names, an event payload without `device`, a future-dated client clock.
    """
    data = SourceData()
    day1 = ("raw/postgres/users/ds=2026-01-10/users.parquet", _ts(11, 2))
    for user_id in range(1, 14):  # user 13 places no order (the account erased on day 20)
        email = f"user{user_id}@shop.example"
        first, last = f"First{user_id}", f"Last{user_id}"
        if user_id == 2:
            email = " User1@Shop.Example "  # (a) the same e-mail as user 1 once normalised
        if user_id == 3:
            first = ""  # (b) blank first name
        if user_id == 4:
            last = "   "  # (b) whitespace last name
        data.add(
            "users",
            day1[0],
            day1[1],
            user_id=user_id,
            email=email,
            first_name=first,
            last_name=last,
            country_code=COUNTRIES[user_id % 3].lower() if user_id == 5 else COUNTRIES[user_id % 3],
            city=f"City{user_id}",
            signup_channel=("web", "app", "marketplace", "referral")[user_id % 4],
            created_at=_ts(1, 8),
            updated_at=_ts(1, 8),
        )
    # A second extraction of user 6 (its city changed on day 10): RAW holds both versions.
    data.add(
        "users",
        "raw/postgres/users/ds=2026-01-11/users.parquet",
        _ts(12, 2),
        user_id=6,
        email="user6@shop.example",
        first_name="First6",
        last_name="Last6",
        country_code=COUNTRIES[0],
        city="City6-moved",
        signup_channel="web",
        created_at=_ts(1, 8),
        updated_at=_ts(10, 9),
    )

    prices = [
        Decimal("9.99"),
        Decimal("120.00"),
        Decimal("35.50"),
        Decimal("4.25"),
        Decimal("60.00"),
        Decimal("15.00"),
        Decimal("250.00"),
        Decimal("7.75"),
    ]
    for product_id, price in enumerate(prices, start=1):
        data.add(
            "products",
            "raw/postgres/products/ds=2026-01-10/products.parquet",
            _ts(11, 2),
            product_id=product_id,
            sku=f"SKU-{product_id:03d}",
            product_name=f"Product {product_id}",
            category=CATEGORIES[product_id % 3],
            brand=None if product_id == 8 else f"Brand{product_id % 2}",
            unit_price=price,
            is_active=True,
            created_at=_ts(1, 7),
            updated_at=_ts(1, 7),
        )

    item_id = 0
    for order_id in range(1, 37):
        user_id = (order_id * 7) % 12 + 1
        day = (order_id % 12) + 1
        status = STATUS_CYCLE[order_id % len(STATUS_CYCLE)]
        ordered = _ts(day, 9 + order_id % 8, order_id % 60)
        file = f"raw/postgres/orders/ds=2026-01-{day:02d}/orders.parquet"
        data.add(
            "orders",
            file,
            _ts(day + 1, 2),
            order_id=order_id,
            user_id=user_id,
            order_status="pending",
            payment_method=("card", "paypal", "bank_transfer", "gift_card")[order_id % 4],
            shipping_country_code=COUNTRIES[user_id % 3],
            ordered_at=ordered,
            created_at=ordered,
            updated_at=ordered,
        )
        if status != "pending":
            # The order moved on the next day: a second extracted version.
            data.add(
                "orders",
                f"raw/postgres/orders/ds=2026-01-{day + 1:02d}/orders.parquet",
                _ts(day + 2, 2),
                order_id=order_id,
                user_id=user_id,
                order_status=status,
                payment_method=("card", "paypal", "bank_transfer", "gift_card")[order_id % 4],
                shipping_country_code=COUNTRIES[user_id % 3],
                ordered_at=ordered,
                created_at=ordered,
                updated_at=ordered + timedelta(days=1),
            )
        if order_id == 36:
            continue  # an order without lines is worth zero
        for line in range(1 + order_id % 3):
            item_id += 1
            product_id = (order_id + line * 3) % 8 + 1
            data.add(
                "order_items",
                f"raw/postgres/order_items/ds=2026-01-{day:02d}/order_items.parquet",
                _ts(day + 1, 2),
                order_item_id=item_id,
                order_id=order_id,
                product_id=product_id,
                quantity=1 + (order_id + line) % 4,
                unit_price=prices[product_id - 1],
                discount_amount=Decimal("5.00") if (order_id + line) % 5 == 0 else Decimal("0.00"),
                created_at=ordered,
                updated_at=ordered,
            )

    devices = ("desktop", "mobile", "tablet", "app_ios", "app_android")
    for event_id in range(1, 41):
        order_id = event_id if event_id <= 36 else None
        user_id = ((order_id * 7) % 12 + 1) if order_id else None
        created = _ts((event_id % 12) + 1, 10, event_id)
        occurred = created - timedelta(seconds=5)
        payload: dict[str, Any]
        if event_id % 4 == 0 and order_id:
            event_type, payload = "purchase", {"order_id": order_id, "value": 10.5, "payment_method": "card"}
        elif event_id % 4 in (0, 1):
            event_type, payload = "page_view", {"url": "/c/books", "referrer": "google"}
        elif event_id % 4 == 2:
            event_type, payload = "product_view", {"url": "/p/3", "product_id": 3}
        else:
            event_type, payload = "search", {"query": "lamp", "results": 12}
        if event_id != 7:
            payload["device"] = devices[event_id % 5]  # (c) event 7 has no device
        if event_id == 9:
            occurred = created + timedelta(hours=3)  # (d) the client clock is 3 hours ahead
        data.add(
            "events",
            "raw/postgres/events/ds=2026-01-10/events.parquet",
            _ts(11, 2),
            event_id=event_id,
            user_id=user_id,
            session_id=f"s{(event_id + 1) // 2}",
            event_type=event_type,
            occurred_at=occurred,
            payload=json.dumps(payload),
            created_at=created,
            updated_at=created,
        )

    for contact_id in range(1, 5):
        data.add(
            "crm_contacts",
            "raw/postgres/crm_contacts/ds=2026-01-10/crm_contacts.parquet",
            _ts(11, 2),
            contact_id=contact_id,
            user_id=contact_id,
            email=f" USER{contact_id}@shop.example",
            phone="" if contact_id == 2 else "+33 1 00 00 00 0{contact_id}",
            channel=("email", "phone", "chat", "social")[contact_id % 4],
            contact_reason="delivery",
            contact_status="open",
            created_at=_ts(5),
            updated_at=_ts(5),
        )
    return data


def _land(data: SourceData, changes: list[tuple[str, Row]], file: str, loaded: datetime) -> list[tuple[str, Row]]:
    """Stamp each changed row with its load audit columns (file ``file`` per table, ``loaded``) and
    record it in ``data``; returns the stamped (table, row) pairs in order."""
    out = []
    for table, row in changes:
        row = {**row, "_source_file": file.format(t=table), "_loaded_at": loaded}
        data.rows[table].append(row)
        out.append((table, row))
    return out


def third_extraction(data: SourceData) -> list[tuple[str, Row]]:
    """Day 3: changes to existing rows (new versions with a later updated_at) and new orders.

    - user 1 moves (a new customer version); product 2's price rises (a new product version);
    - order 3, placed on day 4 (older than the lookback from the newest order), is refunded late;
    - an item of order 5 changes quantity (the order's own row does not change);
    - two new orders on day 20, one by user 1 (the new version) with product 2 (the new price);
    - hard deletes, in the source's delete log: user 13 (an erased account without orders) and
      order 9 (paid: revenue) with its lines.
    """
    file, loaded = "raw/postgres/{t}/ds=2026-01-20/{t}.parquet", _ts(21, 2)
    latest_users = data.latest("users", "user_id")
    latest_products = data.latest("products", "product_id")
    latest_orders = data.latest("orders", "order_id")
    latest_items = data.latest("order_items", "order_item_id")
    changes: list[tuple[str, Row]] = [
        ("users", {**latest_users[1], "city": "City1-new", "updated_at": _ts(20, 8)}),
        ("products", {**latest_products[2], "unit_price": Decimal("130.00"), "updated_at": _ts(20, 8)}),
        ("orders", {**latest_orders[3], "order_status": "refunded", "updated_at": _ts(20, 9)}),
    ]
    item_of_5 = next(r for r in latest_items.values() if r["order_id"] == 5)
    changes.append(("order_items", {**item_of_5, "quantity": item_of_5["quantity"] + 2, "updated_at": _ts(20, 9)}))
    next_item = max(latest_items) + 1
    for offset, (order_id, user_id, product_id) in enumerate(((101, 1, 2), (102, 9, 7))):
        ordered = _ts(20, 10 + offset)
        changes.append(
            (
                "orders",
                {
                    "order_id": order_id,
                    "user_id": user_id,
                    "order_status": "paid",
                    "payment_method": "card",
                    "shipping_country_code": "FR",
                    "ordered_at": ordered,
                    "created_at": ordered,
                    "updated_at": ordered,
                },
            )
        )
        price = Decimal("130.00") if product_id == 2 else latest_products[product_id]["unit_price"]
        changes.append(
            (
                "order_items",
                {
                    "order_item_id": next_item + offset,
                    "order_id": order_id,
                    "product_id": product_id,
                    "quantity": 2,
                    "unit_price": price,
                    "discount_amount": Decimal("0.00"),
                    "created_at": ordered,
                    "updated_at": ordered,
                },
            )
        )
    deletes = [("users", 13), ("orders", 9)] + [
        ("order_items", item["order_item_id"]) for item in latest_items.values() if item["order_id"] == 9
    ]
    for number, (table, row_id) in enumerate(deletes, start=1):
        record = {"deleted_row_id": number, "table_name": table, "row_id": row_id, "deleted_at": _ts(20, 11)}
        changes.append(("deleted_rows", record))
    return _land(data, changes, file, loaded)


def backfill_of_an_older_day(data: SourceData) -> list[tuple[str, Row]]:
    """Day 5, extracted again and loaded after day 20 (out of order): an older day's file arrives late.

    - order 103, placed on day 5 (paid, one line): older than any lookback from the newest order, it
      is found by its load time only;
    - order 20's first version again (pending, older than its latest): staging keeps the latest, so
      nothing changes.
    """
    file, loaded = "raw/postgres/{t}/ds=2026-01-05/{t}__backfill.parquet", _ts(22, 2)
    ordered = _ts(5, 15)
    first_of_20 = min((r for r in data.rows["orders"] if r["order_id"] == 20), key=lambda r: r["updated_at"])
    next_item = max(r["order_item_id"] for r in data.rows["order_items"]) + 1
    changes: list[tuple[str, Row]] = [
        ("orders", {k: v for k, v in first_of_20.items() if not k.startswith("_")}),
        (
            "orders",
            {
                "order_id": 103,
                "user_id": 2,
                "order_status": "paid",
                "payment_method": "paypal",
                "shipping_country_code": "DE",
                "ordered_at": ordered,
                "created_at": ordered,
                "updated_at": ordered,
            },
        ),
        (
            "order_items",
            {
                "order_item_id": next_item,
                "order_id": 103,
                "product_id": 3,
                "quantity": 3,
                "unit_price": Decimal("35.50"),
                "discount_amount": Decimal("0.10"),
                "created_at": ordered,
                "updated_at": ordered,
            },
        ),
    ]
    return _land(data, changes, file, loaded)


# --- independent computations, in Python, from the source rows ----------------------------------


def order_values(data: SourceData) -> dict[int, tuple[Row, Decimal]]:
    """Each order's latest version and net amount (sum of its latest lines)."""
    nets: dict[int, Decimal] = defaultdict(Decimal)
    for item in data.latest("order_items", "order_item_id").values():
        nets[item["order_id"]] += item["quantity"] * item["unit_price"] - item["discount_amount"]
    return {oid: (order, nets.get(oid, Decimal(0))) for oid, order in data.latest("orders", "order_id").items()}


def revenue_orders(data: SourceData) -> dict[int, tuple[Row, Decimal]]:
    return {k: v for k, v in order_values(data).items() if v[0]["order_status"] in REVENUE_STATUSES}


def ntile(n: int, ordered_keys: list[Any]) -> dict[Any, int]:
    """SQL's ntile(n): the first (len % n) buckets hold one row more."""
    size, extra = divmod(len(ordered_keys), n)
    result, index = {}, 0
    for bucket in range(1, n + 1):
        for _ in range(size + (1 if bucket <= extra else 0)):
            result[ordered_keys[index]] = bucket
            index += 1
    return result


def expected_rfm(data: SourceData) -> dict[int, tuple]:
    per_user: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for order, net in revenue_orders(data).values():
        per_user[order["user_id"]].append((order["ordered_at"].date(), net))
    as_of = max(d for orders in per_user.values() for d, _ in orders)
    measures = {}
    for user, orders in per_user.items():
        revenue = sum((n for _, n in orders), Decimal(0))
        recency = (as_of - max(d for d, _ in orders)).days
        measures[user] = (len(orders), revenue, recency)
    r = ntile(5, sorted(measures, key=lambda u: (-measures[u][2], u)))
    f = ntile(5, sorted(measures, key=lambda u: (measures[u][0], u)))
    m = ntile(5, sorted(measures, key=lambda u: (measures[u][1], u)))
    result = {}
    for user, (count, revenue, recency) in measures.items():
        rs, fs, ms = r[user], f[user], m[user]
        if rs >= 4 and fs >= 4 and ms >= 4:
            segment = "Champions"
        elif rs >= 3 and fs >= 3:
            segment = "Loyal"
        elif rs <= 2 and fs >= 3:
            segment = "At risk"
        elif rs <= 2 and fs <= 2:
            segment = "Lost"
        else:
            segment = "Others"
        customer_segment = "VIP" if count >= 5 else "Repeat" if count >= 2 else "New"
        basket = (revenue / count).quantize(CENT, rounding=ROUND_HALF_UP)
        result[user] = (count, revenue, basket, recency, rs, fs, ms, segment, customer_segment)
    return result


def expected_abc(data: SourceData) -> dict[int, tuple]:
    revenue_ids = set(revenue_orders(data))
    revenue: dict[int, Decimal] = defaultdict(Decimal)
    units: dict[int, int] = defaultdict(int)
    orders: dict[int, set[int]] = defaultdict(set)
    for item in data.latest("order_items", "order_item_id").values():
        if item["order_id"] in revenue_ids:
            pid = item["product_id"]
            revenue[pid] += item["quantity"] * item["unit_price"] - item["discount_amount"]
            units[pid] += item["quantity"]
            orders[pid].add(item["order_id"])
    products = sorted(data.latest("products", "product_id"), key=lambda p: (-revenue[p], p))
    total = sum(revenue.values(), Decimal(0))
    result, running = {}, Decimal(0)
    for pid in products:
        running += revenue[pid]
        abc = "A" if running * 100 <= total * 80 else "B" if running * 100 <= total * 95 else "C"
        result[pid] = (revenue[pid], units[pid], len(orders[pid]), abc)
    return result


def expected_basket_by_country(data: SourceData) -> dict[str, Decimal]:
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    count: dict[str, int] = defaultdict(int)
    for order, net in revenue_orders(data).values():
        revenue[order["shipping_country_code"]] += net
        count[order["shipping_country_code"]] += 1
    return {c: (revenue[c] / count[c]).quantize(CENT, rounding=ROUND_HALF_UP) for c in revenue}


# --- the warehouse ---------------------------------------------------------------------------------


def connect(database: str | None = None):
    import snowflake.connector

    settings = StackSettings.from_env()
    return snowflake.connector.connect(
        account=SNOWFLAKE_ACCOUNT,
        user="dbt_test",
        password="dbt_test",
        host=settings.host,
        port=settings.snowflake_port,
        protocol="https",
        insecure_mode=True,
        database=database,
        login_timeout=30,
        network_timeout=120,
    )


def raw_table_ddl(database: str) -> list[str]:
    """The RAW tables the DAG creates (include/shopstream/load.py), for `database`, created afresh,
    without their landing tables."""
    text = raw_objects_sql(f"{database}.{RAW_SCHEMA}")
    statements = re.findall(r"create table if not exists [^;]*?\);", text, flags=re.S | re.I)
    assert len(statements) == 7, statements
    return [s.replace("create table if not exists", "create or replace table") for s in statements]


BUILT_SCHEMAS = ("RAW", "STAGING", "INTERMEDIATE", "MARTS", "SNAPSHOTS", "ANALYTICS")


def reset_database(cur) -> None:
    """An empty database of the test's own (the emulator has no DROP DATABASE: drop its schemas)."""
    cur.execute(f"create database if not exists {DATABASE}")
    for schema in BUILT_SCHEMAS:
        cur.execute(f"drop schema if exists {DATABASE}.{schema} cascade")
    cur.execute(f"create schema {DATABASE}.RAW")


def insert_rows(cur, table: str, rows: list[Row]) -> None:
    """One multi-row INSERT; the connector binds the values client-side (pyformat)."""
    columns = list(rows[0])
    flat: dict[str, Any] = {}
    sql_values = []
    for i, row in enumerate(rows):
        sql_values.append("(" + ", ".join(f"%({c}_{i})s" for c in columns) + ")")
        flat.update({f"{c}_{i}": row[c] for c in columns})
    cur.execute(
        f"insert into {DATABASE}.RAW.{table.upper()} ({', '.join(columns)}) values {', '.join(sql_values)}",
        flat,
    )


def query(sql: str) -> list[tuple]:
    with connect(DATABASE) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def dbt(*args: str, target_path: Path) -> dict:
    """Run dbt on the isolated database; return its run_results.json."""
    env = {**os.environ, SNOWFLAKE_DATABASE_ENV: DATABASE, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    result = subprocess.run(
        [
            dbt_executable(),
            *args,
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--target",
            EMBEDDED_DBT_TARGET,
            "--target-path",
            str(target_path),
            "--log-path",
            str(target_path / "logs"),
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return json.loads((target_path / "run_results.json").read_text())


def statuses(run_results: dict) -> dict[str, str]:
    return {r["unique_id"]: r["status"] for r in run_results["results"]}


def content_hash(relation: str) -> tuple[int, str]:
    """A relation's row count and the SHA-256 of its rows, sorted: equal hashes, equal contents."""
    rows = sorted(repr(row) for row in query(f"select * from {relation}"))
    return len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()


def insert_changes(changes: list[tuple[str, Row]]) -> None:
    by_table: dict[str, list[Row]] = defaultdict(list)
    for table, row in changes:
        by_table[table].append(row)
    with connect() as conn, conn.cursor() as cur:
        for table, rows in by_table.items():
            insert_rows(cur, table, rows)


# --- the test --------------------------------------------------------------------------------------


@dataclass
class Built:
    data: SourceData
    first: dict
    second: dict
    third: dict
    target: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    data = first_extractions()
    with connect() as conn, conn.cursor() as cur:
        reset_database(cur)
        for ddl in raw_table_ddl(DATABASE):
            cur.execute(ddl)
        for table, rows in data.rows.items():
            insert_rows(cur, table, rows)
    target = tmp_path_factory.mktemp("dbt_target")
    first = dbt("build", target_path=target)

    insert_changes(third_extraction(data))
    second = dbt("build", target_path=target)
    # The late file changes orders only: their staging tables and what reads them are built again
    # (with their tests); the rest of the project has nothing new to read.
    insert_changes(backfill_of_an_older_day(data))
    third = dbt("build", "--select", "stg_shopstream__orders+", "stg_shopstream__order_items+", target_path=target)
    yield Built(data, first, second, third, target)


def test_build_passes_with_unit_tests_snapshots_and_dirty_data_warnings(built: Built) -> None:
    for run in (built.first, built.second, built.third):
        by_id = statuses(run)
        failed = {k: v for k, v in by_id.items() if v not in {"success", "pass", "warn", "no-op"}}
        assert not failed, failed
    assert {"model.shopstream.fct_orders", "model.shopstream.mart_sales_overview"} <= set(statuses(built.third))
    for run in (built.first, built.second):
        by_id = statuses(run)
        assert sum(k.startswith("unit_test.") for k in by_id) >= 3
        assert {k for k in by_id if k.startswith("snapshot.")} == {
            "snapshot.shopstream.snap_users",
            "snapshot.shopstream.snap_products",
        }
        assert sum(k.startswith("model.") for k in by_id) >= 19
    warned = {k for k, v in statuses(built.second).items() if v == "warn"}
    for flag in ("is_duplicate_email", "has_blank_name", "is_payload_incomplete", "is_future_dated"):
        assert any("is_not_flagged_" in k and flag in k for k in warned), (flag, warned)


def test_tests_not_passing_are_recorded_for_the_report(built: Built) -> None:
    """The on-run-end hook leaves one row per test whose latest result is not a pass, as dbt reported it."""
    run_results = {r["unique_id"]: r for r in built.second["results"] if r["unique_id"].startswith("test.")}
    expected = {(k, r["status"], r["failures"]) for k, r in run_results.items() if r["status"] != "pass"}
    rows = query("select test_id, status, failures, severity, tested_model, checked_at is not null "
                 "from MARTS.MART_DATA_QUALITY_FINDINGS")
    assert {(test_id, status, failures) for test_id, status, failures, *_ in rows} == expected
    assert expected, "the dirty-data tests should warn on this data"
    assert all(severity == "warn" and status == "warn" and stamped for _, status, _, severity, _, stamped in rows)
    assert {model for *_, model, _ in rows} >= {"stg_shopstream__users", "stg_shopstream__events"}

    # A selective run updates only the tests it ran: the users' findings stay while the events' run again.
    events_findings = {r[0] for r in rows if r[4] == "stg_shopstream__events"}
    rerun = dbt("test", "--select", "stg_shopstream__events", target_path=built.target / "rerun")
    assert {r["unique_id"] for r in rerun["results"] if r["status"] == "warn"} == events_findings
    assert query("select count(*) from MARTS.MART_DATA_QUALITY_FINDINGS")[0][0] == len(rows)


def test_snapshots_keep_every_version_of_changed_rows(built: Built) -> None:
    rows = query(
        "select 'user', count(*), count_if(dbt_valid_to is null) from SNAPSHOTS.SNAP_USERS where user_id = 1 "
        "union all "
        "select 'product', count(*), count_if(dbt_valid_to is null) from SNAPSHOTS.SNAP_PRODUCTS where product_id = 2 "
        "union all "
        "select 'unchanged', count(*), count_if(dbt_valid_to is null) from SNAPSHOTS.SNAP_USERS where user_id = 3"
    )
    assert sorted(rows) == [("product", 2, 1), ("unchanged", 1, 1), ("user", 2, 1)]
    # The user deleted in the source: its only version closed by the run that no longer found it.
    rows = query(
        "select count(*), count_if(dbt_valid_to is null), count_if(dbt_valid_to is not null) "
        "from SNAPSHOTS.SNAP_USERS where user_id = 13"
    )
    assert rows == [(1, 0, 1)]
    # The new order of user 1 and the new line of product 2 point at the new versions.
    rows = query(
        "select count(*) from MARTS.FCT_ORDERS o join MARTS.DIM_CUSTOMERS c on o.customer_sk = c.customer_sk "
        "where o.order_id = 101 and c.is_current and c.city = 'City1-new'"
    )
    assert rows == [(1,)]
    rows = query(
        "select count(*) from MARTS.FCT_ORDER_ITEMS i join MARTS.DIM_PRODUCTS p on i.product_sk = p.product_sk "
        "where i.order_id = 101 and p.is_current and p.unit_price = 130"
    )
    assert rows == [(1,)]


def test_hard_deletes_are_flagged_in_staging_and_leave_the_marts(built: Built) -> None:
    """User 13 (erased, no orders) and order 9 (paid) with its lines, deleted in the source on day 20."""
    flagged = query(
        "select 'user', count(*), count_if(is_deleted), count_if(deleted_at is not null) "
        "from STAGING.STG_SHOPSTREAM__USERS where user_id = 13 "
        "union all select 'order', count(*), count_if(is_deleted), count_if(deleted_at is not null) "
        "from STAGING.STG_SHOPSTREAM__ORDERS where order_id = 9 "
        "union all select 'lines', count(*), count_if(is_deleted), count_if(deleted_at is not null) "
        "from STAGING.STG_SHOPSTREAM__ORDER_ITEMS where order_id = 9 "
        "union all select 'live', count(*), count_if(is_deleted), 0 "
        "from STAGING.STG_SHOPSTREAM__ORDERS where order_id <> 9"
    )
    lines_of_9 = len(built.data.deleted("order_items"))
    assert lines_of_9 >= 1
    live_orders = len(built.data.latest("orders", "order_id"))
    assert sorted(flagged) == sorted(
        [
            ("user", 1, 1, 1),
            ("order", 1, 1, 1),
            ("lines", lines_of_9, lines_of_9, lines_of_9),
            ("live", live_orders, 0, 0),
        ]
    )
    gone = query(
        "select (select count(*) from MARTS.DIM_CUSTOMERS where user_id = 13), "
        "(select count(*) from MARTS.MART_CUSTOMER_LTV where user_id = 13), "
        "(select count(*) from MARTS.FCT_ORDERS where order_id = 9), "
        "(select count(*) from MARTS.FCT_ORDER_ITEMS where order_id = 9), "
        "(select count(*) from INTERMEDIATE.INT_ORDER_STATUS_HISTORY where order_id = 9)"
    )
    assert gone == [(0, 0, 0, 0, 0)]
    # Revenue without order 9, to the cent, in both facts and the sales overview.
    expected = sum((net for _, net in revenue_orders(built.data).values()), Decimal(0))
    assert 9 not in revenue_orders(built.data)
    totals = query(
        "select (select sum(net_amount) from MARTS.FCT_ORDERS where is_revenue)::number(38, 2), "
        "(select sum(net_amount) from MARTS.FCT_ORDER_ITEMS where is_revenue)::number(38, 2), "
        "(select sum(revenue) from MARTS.MART_SALES_OVERVIEW)::number(38, 2)"
    )
    assert totals == [(expected, expected, expected)]


def test_incremental_models_equal_a_full_refresh_after_an_out_of_order_backfill(built: Built) -> None:
    # The late refund of order 3 and the changed line of order 5 were merged by an incremental run;
    # order 103 of day 5, loaded after day 20, was picked by its load time (no business-date lookback
    # reaches it: the newest order is of day 20).
    assert query("select order_status, is_revenue from MARTS.FCT_ORDERS where order_id = 3") == [("refunded", False)]
    assert query("select order_date, net_amount from MARTS.FCT_ORDERS where order_id = 103") == [
        (date(2026, 1, 5), Decimal("106.40"))
    ]
    assert query("select count(*) from MARTS.FCT_ORDER_ITEMS where order_id = 103") == [(1,)]
    # Every incremental model: the staging tables of the history (orders, lines, events), the
    # sessionised events and the three facts.
    models = {node["name"]: f"{node['schema']}.{node['alias']}" for node in built_models(built)
              if node["config"]["materialized"] == "incremental"}
    assert {"stg_shopstream__events", "int_events_sessionised", "fct_events", "fct_orders"} <= set(models)
    incremental = {name: content_hash(relation) for name, relation in models.items()}
    refresh = dbt("run", "--full-refresh", "--select", *models, target_path=built.target)
    assert set(statuses(refresh).values()) == {"success"}
    for name, (count, digest) in incremental.items():
        assert count > 30, name
        assert content_hash(models[name]) == (count, digest), name


def built_models(built: Built) -> list[dict[str, Any]]:
    """The models of the manifest the test's dbt build wrote (through the project's one reader)."""
    return list(dbt_manifest.load(built.target / "manifest.json").nodes("model").values())


def test_marts_equal_independent_python_computations(built: Built) -> None:
    rfm = {
        row[0]: tuple(row[1:])
        for row in query(
            "select user_id, orders, lifetime_revenue, average_basket, recency_days, r_score, f_score, m_score, "
            "rfm_segment, customer_segment from MARTS.MART_CUSTOMER_LTV"
        )
    }
    expected = expected_rfm(built.data)
    assert len(expected) >= 10
    assert rfm == expected

    abc = {
        row[0]: tuple(row[1:])
        for row in query(
            "select product_id, revenue, units_sold, orders, abc_class from MARTS.MART_PRODUCT_PERFORMANCE"
        )
    }
    expected_products = expected_abc(built.data)
    assert abc == expected_products
    assert {v[3] for v in expected_products.values()} == {"A", "B", "C"}

    # Average basket at another grain, read from fct_orders as the report does: revenue / distinct orders.
    baskets = dict(
        query(
            "select shipping_country_code, (sum(net_amount)::number(38, 2) / count(distinct order_id))::number(12, 2) "
            "from MARTS.FCT_ORDERS where is_revenue group by 1"
        )
    )
    assert baskets == expected_basket_by_country(built.data), (baskets, expected_basket_by_country(built.data))
    # The sales overview's revenue adds up to the same total.
    total = query("select sum(revenue)::number(38, 2) from MARTS.MART_SALES_OVERVIEW")[0][0]
    assert total == sum((net for _, net in revenue_orders(built.data).values()), Decimal(0))


def test_every_model_and_column_is_documented(built: Built) -> None:
    """Every column the warehouse holds for a model has a description (and so does the model)."""
    models = built_models(built)
    assert len(models) >= 19
    undocumented: dict[str, set[str]] = {}
    with connect(DATABASE) as conn, conn.cursor() as cur:
        for node in models:
            assert node["description"].strip(), node["name"]
            cur.execute(f"select * from {node['schema']}.{node['alias']} limit 0")
            actual = {d[0].lower() for d in cur.description}
            documented = {name.lower() for name, c in node["columns"].items() if c["description"].strip()}
            if actual - documented:
                undocumented[node["name"]] = actual - documented
    assert not undocumented
    contracted = {n["name"] for n in models if n["config"]["contract"]["enforced"]}
    marts = {n["name"] for n in models if n["config"]["schema"] == "MARTS"}
    assert marts and contracted == marts
