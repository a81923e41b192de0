"""The OLTP generator without a database: determinism, referential integrity, allowed values, windows.

The DDL's check constraints are parsed from the SQL file itself, so a value the database would reject
fails here first, without PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from include.data_gen.__main__ import build_parser, main
from include.data_gen.dsn import AIRFLOW_CONN_ENV, DSN_ENV, DsnError, resolve_conninfo
from include.data_gen.generator import GeneratorOptions, OltpGenerator, copy_columns
from include.shopstream.config import PROJECT_ROOT, SQL_DIR, TABLES

END = date(2026, 11, 26)
OPTIONS = GeneratorOptions(orders=600, days=30, end_date=END, seed=42)


def table_digest(generator: OltpGenerator, table: str) -> str:
    digest = hashlib.sha256()
    for row in generator.rows(table):
        digest.update(repr(row).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def digests(options: GeneratorOptions) -> dict[str, str]:
    generator = OltpGenerator(options)
    return {t.name: table_digest(generator, t.name) for t in TABLES}


def dict_rows(generator: OltpGenerator, table: str) -> Iterator[dict[str, Any]]:
    columns = copy_columns(table)
    for row in generator.rows(table):
        yield dict(zip(columns, row, strict=True))


@pytest.fixture(scope="module")
def data() -> dict[str, list[dict[str, Any]]]:
    generator = OltpGenerator(OPTIONS)
    return {t.name: list(dict_rows(generator, t.name)) for t in TABLES}


@pytest.fixture(scope="module")
def ddl_checks() -> dict[str, set[str]]:
    """``column -> allowed values`` from every ``check (column in ('a', 'b'))`` of the OLTP DDL."""
    text = "\n".join(p.read_text() for p in sorted((SQL_DIR / "postgres").glob("*.sql")))
    checks: dict[str, set[str]] = {}
    for column, values in re.findall(r"check\s*\(\s*(\w+)\s+in\s*\(([^)]*)\)", text, flags=re.DOTALL):
        checks[column] = set(re.findall(r"'([^']*)'", values))
    return checks


# --- determinism ------------------------------------------------------------------------------------


def test_same_seed_same_rows() -> None:
    assert digests(OPTIONS) == digests(GeneratorOptions(orders=600, days=30, end_date=END, seed=42))


DIGEST_SCRIPT = """
import hashlib, json
from datetime import date
from include.data_gen.generator import GeneratorOptions, OltpGenerator
gen = OltpGenerator(GeneratorOptions(orders=300, days=10, end_date=date(2026, 11, 26), seed=5))
print(json.dumps({t: hashlib.sha256(repr(list(gen.rows(t))).encode()).hexdigest() for t in gen.tables()}))
"""


def test_same_rows_in_other_processes() -> None:
    """Nothing may depend on the process (hash randomisation reorders sets, e.g. in Faker's word lists)."""
    outputs = []
    for hash_seed in ("1", "2"):
        env = {"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", DIGEST_SCRIPT],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1]


def test_other_seed_other_rows() -> None:
    first, other = digests(OPTIONS), digests(GeneratorOptions(orders=600, days=30, end_date=END, seed=43))
    assert all(first[t] != other[t] for t in first)


def test_rows_follow_config_columns(data: dict[str, list[dict[str, Any]]]) -> None:
    for table in TABLES:
        assert len(copy_columns(table.name)) == len(table.columns)
        assert set(data[table.name][0]) == set(copy_columns(table.name))


def test_counts_match_expected(data: dict[str, list[dict[str, Any]]]) -> None:
    expected = OltpGenerator(OPTIONS).expected_counts()
    assert {t: len(rows) for t, rows in data.items()} == expected
    assert expected["users"] == 120 and expected["products"] == 50 and expected["events"] == 3000
    assert expected["crm_contacts"] == 60
    assert 600 <= expected["order_items"] <= 5 * 600


def test_batches_are_bounded_and_complete() -> None:
    generator = OltpGenerator(OPTIONS)
    batches = list(generator.batches("events", 700))
    assert max(len(b) for b in batches) == 700
    assert [r for b in batches for r in b] == list(generator.rows("events"))


def test_ids_start_at_one_and_are_dense(data: dict[str, list[dict[str, Any]]]) -> None:
    for table in TABLES:
        ids = [row[table.primary_key] for row in data[table.name]]
        assert ids == list(range(1, len(ids) + 1)), table.name


# --- referential integrity and time order -----------------------------------------------------------


def test_foreign_keys_hold(data: dict[str, list[dict[str, Any]]]) -> None:
    users = {u["user_id"]: u for u in data["users"]}
    products = {p["product_id"]: p for p in data["products"]}
    orders = {o["order_id"]: o for o in data["orders"]}
    for order in data["orders"]:
        assert users[order["user_id"]]["created_at"] < order["ordered_at"]
    for item in data["order_items"]:
        order, product = orders[item["order_id"]], products[item["product_id"]]
        assert product["created_at"] <= order["ordered_at"]
        assert item["unit_price"] == product["unit_price"]
        assert item["discount_amount"] <= item["unit_price"] * item["quantity"]
    for row in data["events"] + data["crm_contacts"]:
        if row["user_id"] is not None:
            assert users[row["user_id"]]["created_at"] <= row["created_at"]
    assert {i["order_id"] for i in data["order_items"]} == set(orders), "every order has lines"


def test_purchase_events_point_to_their_order(data: dict[str, list[dict[str, Any]]]) -> None:
    orders = {o["order_id"]: o for o in data["orders"]}
    purchases = [e for e in data["events"] if e["event_type"] == "purchase"]
    assert len(purchases) == len(orders)
    for event in purchases:
        order = orders[event["payload"]["order_id"]]
        assert event["user_id"] == order["user_id"] and event["occurred_at"] == order["ordered_at"]


def test_timestamps_in_window_and_ordered(data: dict[str, list[dict[str, Any]]]) -> None:
    start, end = OPTIONS.window_start, OPTIONS.window_end
    for table, rows in data.items():
        for row in rows:
            created, updated = row["created_at"], row["updated_at"]
            assert created.tzinfo is not None and created.utcoffset() == UTC.utcoffset(None), table
            assert start <= created <= updated < end, (table, row)
    assert any(o["updated_at"] > o["created_at"] for o in data["orders"]), "some orders moved status"
    assert any(u["updated_at"] > u["created_at"] for u in data["users"])


def test_old_orders_mostly_delivered(data: dict[str, list[dict[str, Any]]]) -> None:
    old = [o for o in data["orders"] if (OPTIONS.window_end - o["ordered_at"]).days >= 7]
    delivered = sum(o["order_status"] == "delivered" for o in old)
    assert old and delivered / len(old) > 0.6
    assert not any(o["order_status"] == "pending" for o in old)


# --- allowed values ---------------------------------------------------------------------------------


def test_values_allowed_by_ddl(data: dict[str, list[dict[str, Any]]], ddl_checks: dict[str, set[str]]) -> None:
    assert {
        "order_status",
        "payment_method",
        "signup_channel",
        "event_type",
        "channel",
        "contact_status",
    } <= set(ddl_checks)
    for rows in data.values():
        for column in set(rows[0]) & set(ddl_checks):
            assert {r[column] for r in rows} <= ddl_checks[column], column


def test_value_shapes(data: dict[str, list[dict[str, Any]]]) -> None:
    assert all(len(u["country_code"]) == 2 and "@" in u["email"] for u in data["users"])
    assert len({p["sku"] for p in data["products"]}) == len(data["products"])
    assert all(isinstance(p["unit_price"], Decimal) and p["unit_price"] > 0 for p in data["products"])
    assert all(1 <= i["quantity"] <= 3 for i in data["order_items"])
    assert all(isinstance(e["payload"], dict) and json.dumps(e["payload"]) for e in data["events"])
    assert all(len(o["shipping_country_code"]) == 2 for o in data["orders"])


# --- command line -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["--orders", "0"], ["--orders", "-5"], ["--days", "0"], ["--end-date", "2026-13-40"], ["--orders", "x"]],
)
def test_bad_options_rejected(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2


def test_append_rejected_with_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--append", "--dry-run"])
    assert exc.value.code == 2
    assert "not supported yet" in capsys.readouterr().err


def test_dry_run_prints_counts_without_a_database() -> None:
    env = {"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"}
    argv = [
        sys.executable,
        "-m",
        "include.data_gen",
        "--orders",
        "600",
        "--end-date",
        "2026-11-26",
        "--dry-run",
    ]
    result = subprocess.run(argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    counts = OltpGenerator(OPTIONS).expected_counts()
    for table, rows in counts.items():
        assert re.search(rf"^{table}\s+{rows:,}$", result.stdout, flags=re.MULTILINE), result.stdout


def test_cli_bad_option_exits_non_zero() -> None:
    env = {"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"}
    argv = [sys.executable, "-m", "include.data_gen", "--orders", "-1", "--dry-run"]
    result = subprocess.run(argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "--orders" in result.stderr


def test_options_validate_sizes() -> None:
    with pytest.raises(ValueError):
        GeneratorOptions(orders=0, end_date=END)
    with pytest.raises(ValueError):
        GeneratorOptions(days=-1, end_date=END)
    before = datetime.now(UTC).date()
    assert before <= GeneratorOptions().end_date <= datetime.now(UTC).date()


# --- connection from the environment ----------------------------------------------------------------


def test_dsn_prefers_shopstream_variable() -> None:
    env = {DSN_ENV: "postgresql://u:p@db:5433/x", AIRFLOW_CONN_ENV: "postgres://a:b@other/y"}
    info = resolve_conninfo(env)
    assert "host=db" in info and "port=5433" in info and "dbname=x" in info


def test_dsn_from_airflow_uri() -> None:
    env = {AIRFLOW_CONN_ENV: "postgres://us%40er:p%3Ass@127.0.0.1:55432/shopstream?sslmode=disable&foo=bar"}
    info = resolve_conninfo(env)
    for part in ("host=127.0.0.1", "port=55432", "dbname=shopstream", "sslmode=disable", "connect_timeout="):
        assert part in info
    assert "user=us@er" in info and "foo" not in info
    assert "p:ss" in info


def test_dsn_from_airflow_json() -> None:
    conn = {
        "conn_type": "postgres",
        "host": "pg",
        "port": 5432,
        "login": "shop",
        "password": "secret",
        "schema": "shopstream",
        "extra": {"sslmode": "require", "cursor": "dictcursor"},
    }
    info = resolve_conninfo({AIRFLOW_CONN_ENV: json.dumps(conn)})
    for part in (
        "host=pg",
        "port=5432",
        "user=shop",
        "password=secret",
        "dbname=shopstream",
        "sslmode=require",
    ):
        assert part in info
    assert "cursor" not in info


def test_dsn_missing_names_both_variables() -> None:
    with pytest.raises(DsnError) as exc:
        resolve_conninfo({})
    assert DSN_ENV in str(exc.value) and AIRFLOW_CONN_ENV in str(exc.value)


def test_dsn_rejects_other_conn_type() -> None:
    with pytest.raises(DsnError):
        resolve_conninfo({AIRFLOW_CONN_ENV: "mysql://u:p@h/db"})


# --- byte-identical data, lifecycles, distributions, dirty data (issue 3) ---------------------------

YEAR = GeneratorOptions(orders=6000, days=364, end_date=date(2026, 12, 28), seed=9)


@pytest.fixture(scope="module")
def year() -> dict[str, list[dict[str, Any]]]:
    generator = OltpGenerator(YEAR)
    return {t: list(dict_rows(generator, t)) for t in ("users", "products", "orders", "order_items")}


def test_checksums_are_byte_identical_per_table() -> None:
    """Two generators, same options: the same SHA-256 of every table's binary COPY bytes."""
    first, second = OltpGenerator(OPTIONS).checksums(), OltpGenerator(OPTIONS).checksums()
    assert first == second and set(first) == {t.name for t in TABLES}


def test_history_statuses_follow_their_lifecycle(data: dict[str, list[dict[str, Any]]]) -> None:
    """Every status is reachable from pending along ORDER_TRANSITIONS, and its last change came at least the
    minimum delay of that step after the order (a shipped order was not shipped a minute after payment)."""
    from include.data_gen.generator import (
        CRM_STATUS_DELAY,
        CRM_STATUS_FALLBACK,
        CRM_TRANSITIONS,
        ORDER_STATUS_DELAY,
        ORDER_STATUS_FALLBACK,
        ORDER_TRANSITIONS,
    )

    for status, previous in ORDER_STATUS_FALLBACK.items():
        assert status in ORDER_TRANSITIONS[previous]
    for status, previous in CRM_STATUS_FALLBACK.items():
        assert status in CRM_TRANSITIONS[previous]
    for rows, delays, status_col in (
        (data["orders"], ORDER_STATUS_DELAY, "order_status"),
        (data["crm_contacts"], CRM_STATUS_DELAY, "contact_status"),
    ):
        for row in rows:
            low, high = delays[row[status_col]]
            waited = (row["updated_at"] - row["created_at"]).total_seconds()
            assert low - 1e-3 <= waited <= high + 1e-3 or (high == 0 and waited == 0), row


def test_distributions_within_tolerance(year: dict[str, list[dict[str, Any]]]) -> None:
    """Stated tolerances, on a one-year history of 6,000 orders (seed 9)."""
    from collections import Counter

    from include.data_gen.generator import CATEGORY_BY_NAME, LOCALES, MEAN_ITEMS_PER_ORDER

    orders, users, items = year["orders"], year["users"], year["order_items"]
    # Countries: each within 6 percentage points of its configured share (~3 standard deviations).
    total_weight = sum(loc.weight for loc in LOCALES)
    countries = Counter(u["country_code"] for u in users)
    for loc in LOCALES:
        assert abs(countries[loc.country_code] / len(users) - loc.weight / total_weight) < 0.06, loc
    # Weekly rhythm: a weekend day has 10% to 35% more orders than a weekday (configured: ~21%).
    by_weekday = Counter(o["ordered_at"].weekday() for o in orders)
    weekend, weekday = (by_weekday[5] + by_weekday[6]) / 2, sum(by_weekday[d] for d in range(5)) / 5
    assert 1.10 <= weekend / weekday <= 1.35, by_weekday
    # Season: December's daily volume beats February's by at least 40% (configured 1.45 / 0.85 plus growth).
    by_month = Counter(o["ordered_at"].month for o in orders)
    assert by_month[12] / 28 > 1.4 * by_month[2] / 28
    # Hour of day: the 18-22 h UTC evening holds more orders than 0-6 h, by at least three times.
    by_hour = Counter(o["ordered_at"].hour for o in orders)
    assert sum(by_hour[h] for h in range(18, 22)) > 3 * sum(by_hour[h] for h in range(0, 6))
    # Basket: mean lines per order within 0.1 of the configured mean (2.12).
    assert abs(len(items) / len(orders) - MEAN_ITEMS_PER_ORDER) < 0.1
    # Repeat customers with a long tail: >= 30% of buyers ordered twice or more; the top 10% of buyers
    # place at least 30% of the orders.
    per_user = sorted(Counter(o["user_id"] for o in orders).values(), reverse=True)
    assert sum(n >= 2 for n in per_user) / len(per_user) >= 0.3
    assert sum(per_user[: len(per_user) // 10]) / len(orders) >= 0.3
    # Prices: each product within its category's range.
    for product in year["products"]:
        cat = CATEGORY_BY_NAME[product["category"]]
        assert cat.min_price - 1 <= product["unit_price"] <= cat.max_price, product
    # A consumer shop's frequencies: nobody orders twice within two days (MIN_REORDER_GAP) ...
    last: dict[int, datetime] = {}
    for order in orders:
        if order["user_id"] in last:
            assert (order["ordered_at"] - last[order["user_id"]]).total_seconds() >= 2 * 86400, order
        last[order["user_id"]] = order["ordered_at"]
    # ... and the top customer of a 2,000-order, 30-day history places at most 16 orders (the stated bound;
    # before the gap and the launch customers, the first sign-ups got up to 211).
    for seed in (42, 11):
        month = OltpGenerator(GeneratorOptions(orders=2000, days=30, end_date=END, seed=seed))
        month_orders = Counter(order[1] for order, _, _ in month.order_stream())
        assert max(month_orders.values()) <= 16, month_orders.most_common(3)


def test_clean_by_default(data: dict[str, list[dict[str, Any]]]) -> None:
    """The Python API is clean by default; the command line dirties 2% (the demo), and 0 stays one option away."""
    from include.data_gen.generator import DEFAULT_DIRTY_RATE

    assert OPTIONS.dirty_rate == 0.0
    assert DEFAULT_DIRTY_RATE == 0.02 and build_parser().parse_args([]).dirty_rate == DEFAULT_DIRTY_RATE
    assert build_parser().parse_args(["--dirty-rate", "0"]).dirty_rate == 0.0
    emails = [u["email"] for u in data["users"]]
    assert len({e.strip().lower() for e in emails}) == len(emails)
    assert all(u["first_name"].strip() and u["last_name"].strip() for u in data["users"])
    assert all("device" in e["payload"] for e in data["events"])
    assert all(e["occurred_at"] <= e["created_at"] for e in data["events"])


DIRTY_RATE = 0.05


@pytest.fixture(scope="module")
def dirty() -> dict[str, list[dict[str, Any]]]:
    options = GeneratorOptions(orders=4000, days=30, end_date=END, seed=42, dirty_rate=DIRTY_RATE)
    generator = OltpGenerator(options)
    return {t: list(dict_rows(generator, t)) for t in ("users", "events")}


def test_each_dirty_kind_at_its_rate(dirty: dict[str, list[dict[str, Any]]]) -> None:
    """Each kind within 4 standard deviations of the configured rate (5%), and still valid data."""
    users, events = dirty["users"], dirty["events"]

    def near(count: int, n: int) -> bool:
        sd = (DIRTY_RATE * (1 - DIRTY_RATE) / n) ** 0.5
        return abs(count / n - DIRTY_RATE) < 4 * sd

    seen: set[str] = set()
    duplicates = 0
    for user in users:
        key = user["email"].strip().lower()
        duplicates += key in seen
        seen.add(key)
    assert near(duplicates, len(users) - 1), duplicates  # (a)
    duplicated = [u["email"] for u in users if u["email"] != u["email"].strip().lower()]
    assert duplicated and all("@" in e for e in duplicated)
    blank = sum(not u["first_name"].strip() or not u["last_name"].strip() for u in users)
    assert near(blank, len(users) - 1), blank  # (b)
    assert all(u["first_name"] is not None and u["last_name"] is not None for u in users)
    missing = sum("device" not in e["payload"] for e in events)
    assert near(missing, len(events)), missing  # (c)
    future = sum((e["occurred_at"] - e["created_at"]).total_seconds() > 3600 for e in events)
    assert near(future, len(events)), future  # (d)


def test_dirty_rate_changes_only_dirty_rows() -> None:
    clean = OltpGenerator(OPTIONS).checksums()
    dirty_sums = OltpGenerator(GeneratorOptions(orders=600, days=30, end_date=END, seed=42, dirty_rate=0.1)).checksums()
    for table in ("products", "orders", "order_items"):
        assert clean[table] == dirty_sums[table], table
    assert clean["users"] != dirty_sums["users"] and clean["events"] != dirty_sums["events"]


@pytest.mark.parametrize(
    "argv",
    [["--dirty-rate", "-0.1"], ["--dirty-rate", "0.9"], ["--dirty-rate", "x"], ["--day", "2026-02-30"]],
)
def test_bad_new_options_rejected(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2


def test_day_needs_next_day(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--day", "2026-11-27"])
    assert exc.value.code == 2 and "--next-day" in capsys.readouterr().err


def test_next_day_and_reset_are_exclusive() -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--next-day", "--reset"])
    assert exc.value.code == 2


def test_binary_money_encoding_matches_postgres_layout() -> None:
    from include.data_gen.encoding import encode_money

    # numeric 123.45: 2 digits (0x007b = 123, 0x1194 = 4500), weight 0, sign +, dscale 2.
    assert encode_money(12345).hex() == "0000000c0002000000000002007b1194"
    assert encode_money(1).hex() == "0000000a0001ffff000000020064"  # 0.01
    assert encode_money(0).hex() == "000000080000000000000002"
