"""Least privilege in the cloud admin SQL, checked without Snowflake.

The admin script (include/sql/snowflake/admin/001_account_setup.sql) is split into statements by
sqlglot's Snowflake tokenizer, and every GRANT is reduced to (role, privilege, object). sqlglot's parser
turns only the simplest GRANTs into ``exp.Grant`` nodes (``on future tables in schema``, ``grant role``
and ``grant ownership ... copy current grants`` fall back to an opaque ``Command``), so the statements are
read from the tokens, and the nodes sqlglot does build are used to cross-check that reading.

The set found must equal ``EXPECTED``, the grants matrix of docs/cloud.md: a wider grant anywhere fails.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass, field

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.dialects.snowflake import Snowflake
from sqlglot.tokens import Token, TokenType

from include.shopstream.config import PROJECT_ROOT

ADMIN_SQL = PROJECT_ROOT / "include" / "sql" / "snowflake" / "admin" / "001_account_setup.sql"
CLOUD_DOC = PROJECT_ROOT / "docs" / "cloud.md"

SERVICE_ROLES = frozenset({"LOADER", "TRANSFORMER", "REPORTER"})
PIPELINE_USER = "SHOPSTREAM_PIPELINE"

RAW_WRITE = frozenset({"SELECT", "INSERT", "DELETE", "TRUNCATE"})

# role -> object -> privileges: the grants matrix of docs/cloud.md, and nothing else.
EXPECTED: dict[str, dict[str, frozenset[str]]] = {
    "LOADER": {
        "WAREHOUSE LOADING_WH": frozenset({"USAGE"}),
        "DATABASE SHOPSTREAM": frozenset({"USAGE"}),
        "SCHEMA SHOPSTREAM.RAW": frozenset({"USAGE", "CREATE TABLE"}),
        "ALL TABLES IN SCHEMA SHOPSTREAM.RAW": RAW_WRITE | {"OWNERSHIP"},
        "FUTURE TABLES IN SCHEMA SHOPSTREAM.RAW": RAW_WRITE,
        "STAGE SHOPSTREAM.RAW.SHOPSTREAM_S3": frozenset({"USAGE"}),
        "FILE FORMAT SHOPSTREAM.RAW.PARQUET_FORMAT": frozenset({"USAGE"}),
    },
    "TRANSFORMER": {
        "WAREHOUSE TRANSFORM_WH": frozenset({"USAGE"}),
        "DATABASE SHOPSTREAM": frozenset({"USAGE"}),
        "SCHEMA SHOPSTREAM.RAW": frozenset({"USAGE"}),
        "ALL TABLES IN SCHEMA SHOPSTREAM.RAW": frozenset({"SELECT"}),
        "FUTURE TABLES IN SCHEMA SHOPSTREAM.RAW": frozenset({"SELECT"}),
        "SCHEMA SHOPSTREAM.STAGING": frozenset({"OWNERSHIP"}),
        "SCHEMA SHOPSTREAM.INTERMEDIATE": frozenset({"OWNERSHIP"}),
        "SCHEMA SHOPSTREAM.MARTS": frozenset({"OWNERSHIP"}),
        "SCHEMA SHOPSTREAM.SNAPSHOTS": frozenset({"OWNERSHIP"}),
    },
    "REPORTER": {
        "WAREHOUSE REPORTING_WH": frozenset({"USAGE"}),
        "DATABASE SHOPSTREAM": frozenset({"USAGE"}),
        "SCHEMA SHOPSTREAM.MARTS": frozenset({"USAGE"}),
        "ALL TABLES IN SCHEMA SHOPSTREAM.MARTS": frozenset({"SELECT"}),
        "ALL VIEWS IN SCHEMA SHOPSTREAM.MARTS": frozenset({"SELECT"}),
        "FUTURE TABLES IN SCHEMA SHOPSTREAM.MARTS": frozenset({"SELECT"}),
        "FUTURE VIEWS IN SCHEMA SHOPSTREAM.MARTS": frozenset({"SELECT"}),
    },
    # Admin roles: only what the script needs them to hold beyond their system defaults.
    "SYSADMIN": {
        "INTEGRATION SHOPSTREAM_S3_INTEGRATION": frozenset({"USAGE"}),
    },
}

# (granted role, grantee kind, grantee)
EXPECTED_ROLE_GRANTS = frozenset(
    {
        ("LOADER", "ROLE", "SYSADMIN"),
        ("TRANSFORMER", "ROLE", "SYSADMIN"),
        ("REPORTER", "ROLE", "SYSADMIN"),
        ("LOADER", "USER", PIPELINE_USER),
        ("TRANSFORMER", "USER", PIPELINE_USER),
    }
)

ACCOUNT_PARAMETERS = {
    "REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_CREATION": "TRUE",
    "REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_OPERATION": "TRUE",
    "PREVENT_UNLOAD_TO_INLINE_URL": "TRUE",
}
WAREHOUSE_TIMEOUTS = ("STATEMENT_TIMEOUT_IN_SECONDS", "STATEMENT_QUEUED_TIMEOUT_IN_SECONDS")
# An upper bound on any timeout: hours, not Snowflake's default of two days.
MAX_TIMEOUT_SECONDS = 4 * 3600

Privilege = tuple[str, str, str]  # (role, privilege, object)
RoleGrant = tuple[str, str, str]  # (granted role, grantee kind, grantee)


@dataclass(frozen=True)
class Statement:
    """One SQL statement: its source text and its words (dotted names joined, keywords upper-cased)."""

    text: str
    words: tuple[str, ...]


def split_statements(sql: str) -> list[Statement]:
    """Split on the tokenizer's semicolons, so strings and comments never split a statement."""
    statements: list[Statement] = []
    current: list[Token] = []
    for token in [*Snowflake().tokenize(sql), None]:
        if token is None or token.token_type == TokenType.SEMICOLON:
            if current:
                statements.append(Statement(sql[current[0].start : current[-1].end + 1], _words(current)))
            current = []
        else:
            current.append(token)
    return statements


def _words(tokens: list[Token]) -> tuple[str, ...]:
    words: list[str] = []
    glue = False
    for token in tokens:
        text = token.text if token.token_type == TokenType.STRING else token.text.upper()
        if token.token_type == TokenType.DOT:
            words[-1] += "."
            glue = True
        elif glue:
            words[-1] += text
            glue = False
        else:
            words.append(text)
    return tuple(words)


def _split_list(words: tuple[str, ...]) -> list[str]:
    """``SELECT , INSERT , CREATE TABLE`` -> ``["SELECT", "INSERT", "CREATE TABLE"]``."""
    return [item.strip() for item in " ".join(words).split(",")]


@dataclass
class AdminScript:
    """What the admin script grants, revokes and sets, as read from its statements."""

    privileges: set[Privilege] = field(default_factory=set)
    role_grants: set[RoleGrant] = field(default_factory=set)
    revoked_privileges: set[Privilege] = field(default_factory=set)
    revoked_role_grants: set[RoleGrant] = field(default_factory=set)
    # ("ACCOUNT", "") / ("WAREHOUSE", name) / ("USER", name) -> parameter -> value
    settings: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    warehouses: set[str] = field(default_factory=set)
    network_policies: dict[str, list[str]] = field(default_factory=dict)


def read_admin_script(sql: str) -> AdminScript:
    script = AdminScript()
    for statement in split_statements(sql):
        words = statement.words
        if words[0] in ("GRANT", "REVOKE"):
            _read_grant(words, script)
        elif words[:3] == ("ALTER", "ACCOUNT", "SET"):
            script.settings.setdefault(("ACCOUNT", ""), {}).update(_assignments(words[3:]))
        elif words[0] == "ALTER" and words[1] in ("WAREHOUSE", "USER") and words[3] == "SET":
            script.settings.setdefault((words[1], words[2]), {}).update(_assignments(words[4:]))
        elif words[:2] == ("CREATE", "WAREHOUSE"):
            script.warehouses.add(words[5] if words[2:5] == ("IF", "NOT", "EXISTS") else words[2])
        elif words[:3] == ("CREATE", "NETWORK", "POLICY"):
            name = words[6] if words[3:6] == ("IF", "NOT", "EXISTS") else words[3]
            allowed = _assignments(words[words.index(name) + 1 :]).get("ALLOWED_IP_LIST", "")
            script.network_policies[name] = [ip for ip in re.split(r"[(),\s]+", allowed) if ip]
    return script


def _read_grant(words: tuple[str, ...], script: AdminScript) -> None:
    revoke = words[0] == "REVOKE"
    to = "FROM" if revoke else "TO"
    if words[1] == "ROLE":  # grant role A to role|user B
        role_grant = (words[2], words[4], words[5])
        (script.revoked_role_grants if revoke else script.role_grants).add(role_grant)
        return
    on, target = words.index("ON"), words.index(to)
    if words[target + 1] != "ROLE":
        raise AssertionError(f"privileges go to roles only, never straight to a user: {' '.join(words)}")
    role, tail = words[target + 2], " ".join(words[target + 3 :])
    suffix = " WITH GRANT OPTION" if "WITH GRANT OPTION" in tail else ""
    obj = " ".join(words[on + 1 : target])
    found = {(role, privilege + suffix, obj) for privilege in _split_list(words[1:on])}
    (script.revoked_privileges if revoke else script.privileges).update(found)


def _assignments(words: tuple[str, ...]) -> dict[str, str]:
    """``A = 1 , B = ( 'x' , 'y' ) C = 2`` -> ``{"A": "1", "B": "( x , y )", "C": "2"}``."""
    values: dict[str, str] = {}
    i = 0
    while i < len(words):
        if words[i] == ",":
            i += 1
            continue
        key, end = words[i], i + 2
        assert words[i + 1] == "=", f"expected KEY = VALUE at {' '.join(words[i:])}"
        if words[end] == "(":
            end = words.index(")", end)
        values[key] = " ".join(words[i + 2 : end + 1])
        i = end + 1
    return values


def expected_privileges() -> set[Privilege]:
    return {(role, p, obj) for role, objects in EXPECTED.items() for obj, privs in objects.items() for p in privs}


def matrix_violations(sql: str) -> list[str]:
    """Every way the script's grants differ from the expected matrix, as readable lines."""
    script = read_admin_script(sql)
    expected = expected_privileges()
    problems = [f"unexpected grant: {p} on {o} to role {r}" for r, p, o in sorted(script.privileges - expected)]
    problems += [f"missing grant: {p} on {o} to role {r}" for r, p, o in sorted(expected - script.privileges)]
    extra_roles, missing_roles = script.role_grants - EXPECTED_ROLE_GRANTS, EXPECTED_ROLE_GRANTS - script.role_grants
    problems += [f"unexpected: grant role {a} to {k} {b}" for a, k, b in sorted(extra_roles)]
    problems += [f"missing: grant role {a} to {k} {b}" for a, k, b in sorted(missing_roles)]
    problems += [f"granted and revoked: {g}" for g in sorted(script.privileges & script.revoked_privileges)]
    problems += [f"granted and revoked: {g}" for g in sorted(script.role_grants & script.revoked_role_grants)]
    return problems


@pytest.fixture(scope="module")
def admin_sql() -> str:
    return ADMIN_SQL.read_text()


@pytest.fixture(scope="module")
def script(admin_sql: str) -> AdminScript:
    return read_admin_script(admin_sql)


def test_grants_equal_the_matrix(admin_sql: str) -> None:
    assert matrix_violations(admin_sql) == []


def test_transformer_does_not_inherit_loader(script: AdminScript) -> None:
    assert ("LOADER", "ROLE", "TRANSFORMER") not in script.role_grants
    # An earlier version granted it: the script takes it back on accounts set up then.
    assert ("LOADER", "ROLE", "TRANSFORMER") in script.revoked_role_grants


def test_no_account_level_privilege_for_service_roles(script: AdminScript) -> None:
    held = {(r, p) for r, p, o in script.privileges if o == "ACCOUNT" and r in SERVICE_ROLES}
    assert held == set()
    assert ("LOADER", "CREATE DATABASE", "ACCOUNT") in script.revoked_privileges


def test_service_roles_write_only_their_own_schemas(script: AdminScript) -> None:
    """A second line of defence that names the rule, should EXPECTED itself be widened carelessly."""
    writes = {"INSERT", "UPDATE", "DELETE", "TRUNCATE", "OWNERSHIP", "CREATE TABLE", "CREATE VIEW"}
    allowed = {"LOADER": ("SHOPSTREAM.RAW",), "REPORTER": ()}
    for role, privilege, obj in script.privileges:
        if role in allowed and privilege in writes:
            assert obj.endswith(allowed[role]), f"{role} may {privilege} on {obj}"
    reporter_objects = {o for r, _, o in script.privileges if r == "REPORTER"}
    assert all("SHOPSTREAM.MARTS" in o or o.split()[0] in ("WAREHOUSE", "DATABASE") for o in reporter_objects)


def test_account_parameters(script: AdminScript) -> None:
    account = script.settings.get(("ACCOUNT", ""), {})
    assert {k: account.get(k) for k in ACCOUNT_PARAMETERS} == ACCOUNT_PARAMETERS


def test_every_warehouse_has_statement_and_queue_timeouts(script: AdminScript) -> None:
    assert script.warehouses == {"LOADING_WH", "TRANSFORM_WH", "REPORTING_WH"}
    for warehouse in script.warehouses:
        settings = script.settings.get(("WAREHOUSE", warehouse), {})
        for parameter in WAREHOUSE_TIMEOUTS:
            value = settings.get(parameter, "")
            assert value.isdigit() and 0 < int(value) <= MAX_TIMEOUT_SECONDS, f"{warehouse}.{parameter}={value!r}"


def test_pipeline_user_has_a_network_policy_and_no_secondary_roles(script: AdminScript) -> None:
    user = script.settings.get(("USER", PIPELINE_USER), {})
    policy = user.get("NETWORK_POLICY")
    assert policy in script.network_policies, "the pipeline user needs a network policy of this script"
    networks = [ipaddress.ip_network(ip) for ip in script.network_policies[policy]]
    assert networks and all(n.prefixlen > 0 for n in networks), "an allow-list, not the whole internet"
    # Each task works under the one role it names: a dbt session must not carry LOADER's writes.
    assert user.get("DEFAULT_SECONDARY_ROLES") == "( )"


@pytest.mark.parametrize(
    ("extra", "expected_problem"),
    [
        ("grant select on all tables in schema SHOPSTREAM.MARTS to role LOADER;", "unexpected grant: SELECT"),
        ("grant role LOADER to role TRANSFORMER;", "unexpected: grant role LOADER to ROLE TRANSFORMER"),
        ("grant create database on account to role TRANSFORMER;", "unexpected grant: CREATE DATABASE"),
        ("grant all privileges on database SHOPSTREAM to role REPORTER;", "unexpected grant: ALL PRIVILEGES"),
        ("grant usage on schema SHOPSTREAM.RAW to role REPORTER with grant option;", "WITH GRANT OPTION"),
        ("GRANT SELECT ON FUTURE TABLES IN SCHEMA SHOPSTREAM.STAGING TO ROLE REPORTER;", "STAGING"),
    ],
)
def test_a_wider_grant_fails_the_check(admin_sql: str, extra: str, expected_problem: str) -> None:
    problems = matrix_violations(f"{admin_sql}\n{extra}\n")
    assert problems and expected_problem in problems[0], problems


def test_a_missing_grant_fails_the_check(admin_sql: str) -> None:
    narrower = admin_sql.replace("grant usage on warehouse REPORTING_WH to role REPORTER;", "")
    assert matrix_violations(narrower) == ["missing grant: USAGE on WAREHOUSE REPORTING_WH to role REPORTER"]


def test_token_reading_agrees_with_sqlglot_parser(admin_sql: str) -> None:
    """Where sqlglot builds an exp.Grant node, it must read the same grants as the tokenizer."""
    checked = 0
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # the Command fallbacks warn on every call
    for statement in split_statements(admin_sql):
        if statement.words[0] != "GRANT":
            continue
        node = sqlglot.parse_one(statement.text, read="snowflake")
        if not isinstance(node, exp.Grant):
            continue
        kind = node.args["kind"].upper()
        securable = node.args["securable"].sql(dialect="snowflake").upper()
        parsed = {
            (principal.this.name.upper(), privilege.this.name.upper(), f"{kind} {securable}")
            for principal in node.args["principals"]
            for privilege in node.args["privileges"]
        }
        mine = AdminScript()
        _read_grant(statement.words, mine)
        assert parsed == mine.privileges, statement.text
        checked += 1
    assert checked >= 10, "sqlglot should still parse the simple grants into nodes"


def _doc_matrix() -> set[Privilege]:
    """The rows of the grants matrix table in docs/cloud.md: | role | object | privileges | why |."""
    section = CLOUD_DOC.read_text().split("### Grants matrix", 1)[1].split("\n#", 1)[0]
    rows: set[Privilege] = set()
    for line in section.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] in EXPECTED:
            rows |= {(cells[0], p.strip().upper(), cells[1].upper()) for p in cells[2].split(",")}
    return rows


def test_the_documented_matrix_is_the_tested_one() -> None:
    assert _doc_matrix() == expected_privileges()
