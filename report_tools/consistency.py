"""The Power BI project checked against the dbt marts, and against itself.

What is checked (each failure is one readable line naming the file and the field):
- the .pbip names a report folder, whose definition.pbir binds the semantic model folder by path;
- every table of the semantic model is loaded by one M partition that navigates, through the
  Snowflake parameters, to ``<schema>.<table>``; that relation is a dbt model of the marts folder,
  with an enforced contract;
- every column's ``sourceColumn`` is a column of that model's contract, and its ``dataType`` is
  compatible with the contract's ``data_type``;
- every measure has a description and a format string, and every ``table[column]``, ``table[measure]``
  and ``[measure]`` of its DAX resolves inside the model;
- every relationship joins existing columns of the same data type, filtering in one direction;
- auto date/time is off and one table is marked as the date table (dataCategory Time, a dateTime key);
- the connection is the four Power Query parameters, and no file holds a credential;
- no customer's personal data is imported: a mart column that dbt masks (``pii_columns()`` in
  macros/masking.sql) is neither a model column nor left in by the partition (``Table.RemoveColumns``);
- every page of pages.json exists, and every field of every visual (projections, sorts, filters)
  is a column or a measure of the table it names.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from include.shopstream import dbt_manifest
from include.shopstream.config import PROJECT_ROOT
from report_tools import pbir, tmdl

POWERBI_DIR = PROJECT_ROOT / "powerbi"
PBIP_PATH = POWERBI_DIR / "ShopStream.pbip"
MARTS_FOLDER = "marts"
CONNECTION_PARAMETERS = ("SnowflakeServer", "SnowflakeWarehouse", "SnowflakeDatabase", "SnowflakeRole")
MASKING_MACROS = PROJECT_ROOT / "include" / "dbt" / "shopstream" / "macros" / "masking.sql"
_CREDENTIAL = re.compile(r"password\s*[=:]|privatekey|private_key|client_secret|\bpwd\s*=", re.IGNORECASE)


@functools.cache
def personal_data_columns(macros: Path = MASKING_MACROS) -> frozenset[str]:
    """The column names (upper case) dbt masks as personal data, read from ``pii_columns()``: one list.

    Raises ValueError when the macro cannot be found in ``macros``.
    """
    found = re.search(r"macro pii_columns\(\).*?return\(\[(.*?)\]\)", macros.read_text(), re.DOTALL)
    if not found:
        raise ValueError(f"{macros}: macro pii_columns() returning a list not found")
    return frozenset(name.upper() for name in re.findall(r"'([^']+)'", found.group(1)))


# --- The marts, from the dbt manifest ---------------------------------------------------------------


@dataclass(frozen=True)
class Mart:
    name: str
    schema: str
    alias: str
    file: str
    contract_enforced: bool
    columns: dict[str, str | None]  # UPPER column name -> contract data_type

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.alias}".upper()


def marts_from_manifest(manifest: dbt_manifest.Manifest) -> dict[str, Mart]:
    """The models of the marts folder, keyed by their relation name in upper case (``FCT_ORDERS``)."""
    marts: dict[str, Mart] = {}
    for node in manifest.models_in_folder(MARTS_FOLDER):
        alias = (node.get("alias") or node["name"]).upper()
        marts[alias] = Mart(
            name=node["name"],
            schema=(node.get("schema") or "").upper(),
            alias=alias,
            file=node.get("original_file_path") or node.get("path") or "",
            contract_enforced=bool(node.get("config", {}).get("contract", {}).get("enforced")),
            columns={name.upper(): col.get("data_type") for name, col in node.get("columns", {}).items()},
        )
    return marts


# --- Types -------------------------------------------------------------------------------------------

_INTEGER = {"integer", "int", "bigint", "smallint", "tinyint", "byteint"}
_FIXED = {"number", "numeric", "decimal"}
_FLOAT = {"float", "float4", "float8", "double", "double precision", "real"}
_TEXT = {"varchar", "char", "character", "string", "text", "nchar", "nvarchar", "character varying"}
_DATETIME = {"date", "datetime", "timestamp", "timestamp_ntz", "timestamp_ltz", "timestamp_tz", "time"}


def compatible(tmdl_type: str | None, contract_type: str | None) -> bool:
    """Whether a TMDL dataType can hold a column of the given Snowflake type without loss."""
    if tmdl_type is None or contract_type is None:
        return False
    text = contract_type.lower().strip()
    base = re.match(r"[a-z_ ]*[a-z_]", text)
    base_name = base.group(0).strip() if base else text
    args = re.search(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)", text)
    scale = int(args.group(2)) if args and args.group(2) else 0
    if tmdl_type == "int64":
        return base_name in _INTEGER or (base_name in _FIXED and scale == 0)
    if tmdl_type == "decimal":
        return base_name in _FIXED or base_name in _INTEGER
    if tmdl_type == "double":
        return base_name in _FLOAT or base_name in _FIXED or base_name in _INTEGER
    if tmdl_type == "string":
        return base_name in _TEXT
    if tmdl_type == "dateTime":
        return base_name in _DATETIME
    if tmdl_type == "boolean":
        return base_name == "boolean"
    return False


# --- DAX references ------------------------------------------------------------------------------------

_DAX_STRING = re.compile(r'"(?:[^"]|"")*"')
_DAX_COMMENT = re.compile(r"//[^\n]*|--[^\n]*|/\*.*?\*/", re.DOTALL)
_DAX_REF = re.compile(r"(?:'((?:[^']|'')+)'|\b([A-Za-z_][A-Za-z0-9_]*))?\s*\[([^\]]+)\]")


def dax_references(expression: str) -> list[tuple[str | None, str]]:
    """(table or None, name) for every ``table[name]``, ``'table'[name]`` and ``[name]`` of a DAX expression."""
    text = _DAX_COMMENT.sub(" ", _DAX_STRING.sub('""', expression))
    refs = []
    for match in _DAX_REF.finditer(text):
        table = match.group(1).replace("''", "'") if match.group(1) else match.group(2)
        refs.append((table, match.group(3).strip()))
    return refs


def _m_navigation(source: str) -> dict[str, str]:
    """Kind -> Name of the ``{[Name = ..., Kind = ...]}`` steps of an M query (literal or parameter name)."""
    steps = {}
    for match in re.finditer(r"\{\s*\[\s*Name\s*=\s*(\"[^\"]*\"|#\"[^\"]*\"|\w+)\s*,\s*Kind\s*=\s*\"(\w+)\"\s*\]\s*\}",
                             source):
        steps[match.group(2)] = match.group(1)
    return steps


# --- The check ------------------------------------------------------------------------------------------


def _rel(path: Path | str) -> str:
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def project_folders(pbip: Path) -> tuple[Path, Path | None, list[str]]:
    """(report folder, semantic model folder, problems) from the .pbip and the report's definition.pbir."""
    problems = []
    data = json.loads(pbip.read_text())
    reports = [a["report"]["path"] for a in data.get("artifacts", []) if "report" in a]
    if not reports:
        problems.append(f"{_rel(pbip)}: no report artifact")
        return pbip.parent, None, problems
    report = (pbip.parent / reports[0]).resolve()
    if not (report / "definition.pbir").is_file():
        problems.append(f"{_rel(pbip)}: report path {reports[0]!r} has no definition.pbir")
        return report, None, problems
    by_path = json.loads((report / "definition.pbir").read_text()).get("datasetReference", {}).get("byPath", {})
    model = (report / by_path.get("path", "")).resolve() if by_path.get("path") else None
    if model is None or not (model / "definition.pbism").is_file():
        problems.append(f"{_rel(report / 'definition.pbir')}: datasetReference.byPath {by_path.get('path')!r} "
                        "is not a semantic model folder (no definition.pbism)")
        return report, None, problems
    return report, model, problems


def check_model(model: tmdl.SemanticModel, marts: dict[str, Mart]) -> list[str]:
    errors: list[str] = []
    # Connection parameters
    for name in CONNECTION_PARAMETERS:
        expression = model.expressions.get(name)
        if expression is None or not expression.is_parameter:
            errors.append(f"{_rel(model.folder / 'expressions.tmdl')}: Power Query parameter {name} is missing")
    # Auto date/time off, marked date table
    annotations = {c.name: c.value for c in (model.model.children if model.model else []) if c.type == "annotation"}
    if annotations.get("__PBI_TimeIntelligenceEnabled") != "0":
        errors.append(f"{_rel(model.folder / 'model.tmdl')}: auto date/time is on "
                      "(annotation __PBI_TimeIntelligenceEnabled = 0 missing)")
    date_tables = [t for t in model.tables.values() if t.properties.get("dataCategory") == "Time"]
    if len(date_tables) != 1:
        errors.append(f"{_rel(model.folder)}: {len(date_tables)} tables marked as date table (dataCategory: Time), "
                      "expected 1")
    for table in date_tables:
        keys = [c for c in table.columns.values() if "isKey" in c.properties and c.data_type == "dateTime"]
        if len(keys) != 1:
            errors.append(f"{_rel(table.file)}: date table {table.name} needs one dateTime column marked isKey")

    for table in model.tables.values():
        errors.extend(_check_table(table, marts))
        for measure in table.measures.values():
            errors.extend(_check_measure(measure, model))
    for rel in model.relationships:
        errors.extend(_check_relationship(rel, model))
    return errors


def _check_table(table: tmdl.Table, marts: dict[str, Mart]) -> list[str]:
    where = _rel(table.file)
    errors: list[str] = []
    m_partitions = [p for p in table.partitions if p.kind == "m"]
    if len(m_partitions) != 1:
        return [f"{where}: table {table.name} needs exactly one M partition (found {len(m_partitions)})"]
    source = m_partitions[0].source
    steps = _m_navigation(source)
    for kind, parameter in (("Database", "SnowflakeDatabase"),):
        if steps.get(kind) != parameter:
            errors.append(f"{where}: partition of {table.name} must select the {kind} through parameter {parameter}")
    if not re.search(r"Snowflake\.Databases\(\s*SnowflakeServer\s*,\s*SnowflakeWarehouse\b", source):
        errors.append(f"{where}: partition of {table.name} must connect with "
                      "Snowflake.Databases(SnowflakeServer, SnowflakeWarehouse, [Role = SnowflakeRole])")
    schema = steps.get("Schema", "").strip('"').upper()
    relation = steps.get("Table", "").strip('"').upper()
    mart = marts.get(relation)
    if mart is None:
        return [*errors, f"{where}: table {table.name} reads {schema}.{relation}, which is no dbt model of the "
                         f"{MARTS_FOLDER} folder"]
    if schema != mart.schema:
        errors.append(f"{where}: table {table.name} reads schema {schema}, dbt model {mart.name} is in {mart.schema}")
    if not mart.contract_enforced:
        errors.append(f"{where}: table {table.name} reads dbt model {mart.name} ({mart.file}), "
                      "whose contract is not enforced")
    personal = personal_data_columns()
    removed = {name.upper() for step in re.findall(r"Table\.RemoveColumns\(\s*\w+\s*,\s*\{([^}]*)\}", source)
               for name in re.findall(r'"([^"]+)"', step)}
    if kept := sorted((personal & set(mart.columns)) - removed):
        errors.append(f"{where}: partition of {table.name} imports personal data {', '.join(kept)} from "
                      f"{mart.relation}: the report does not need it; drop it with Table.RemoveColumns "
                      "(REPORTER reads it masked)")
    for column in table.columns.values():
        source_column = (column.source_column or "").upper()
        target = f"{mart.relation}.{source_column}"
        if source_column in personal:
            errors.append(f"{where}: column {column.name} is personal data ({target}): remove it from the model")
        if not source_column:
            errors.append(f"{where}: column {column.name} has no sourceColumn")
        elif source_column not in mart.columns:
            errors.append(f"{where}: column {column.name} -> {target} not found in dbt model {mart.name} ({mart.file})")
        elif not compatible(column.data_type, mart.columns[source_column]):
            errors.append(f"{where}: column {column.name} has dataType {column.data_type}, but {target} is "
                          f"{mart.columns[source_column]} in the contract of dbt model {mart.name}")
    return errors


def _check_measure(measure: tmdl.Measure, model: tmdl.SemanticModel) -> list[str]:
    where = f"{_rel(measure.file)}: measure {measure.name}"
    errors = []
    if not measure.description:
        errors.append(f"{where} has no description (/// line)")
    if not measure.format_string:
        errors.append(f"{where} has no formatString")
    if not measure.expression:
        errors.append(f"{where} has no expression")
    for table_name, name in dax_references(measure.expression):
        if table_name is None:
            in_any_table = any(name in t.columns for t in model.tables.values())
            if model.measure_owner(name) is None and not in_any_table:
                errors.append(f"{where}: [{name}] is no measure of the model")
            continue
        table = model.tables.get(table_name)
        if table is None:
            errors.append(f"{where}: {table_name}[{name}] names table {table_name}, which is not in the model")
        elif name not in table.columns and name not in table.measures:
            errors.append(f"{where}: {table_name}[{name}] is no column or measure of table {table_name}")
    return errors


def _check_relationship(rel: tmdl.Relationship, model: tmdl.SemanticModel) -> list[str]:
    where = f"{_rel(rel.file)}: relationship {rel.name}"
    errors = []
    columns = []
    for table_name, column_name in ((rel.from_table, rel.from_column), (rel.to_table, rel.to_column)):
        column = model.tables.get(table_name, tmdl.Table(table_name, rel.file, 0, None, {})).columns.get(column_name)
        if column is None:
            errors.append(f"{where}: {table_name}.{column_name} is no column of the model")
        columns.append(column)
    if all(columns) and columns[0].data_type != columns[1].data_type:
        errors.append(f"{where}: {rel.from_table}.{rel.from_column} ({columns[0].data_type}) and "
                      f"{rel.to_table}.{rel.to_column} ({columns[1].data_type}) differ in dataType")
    if rel.properties.get("crossFilteringBehavior", "oneDirection") != "oneDirection":
        errors.append(f"{where}: filters in both directions (crossFilteringBehavior), single direction expected")
    return errors


def check_report(report: pbir.Report, model: tmdl.SemanticModel) -> list[str]:
    errors = list(report.problems)
    if not report.pages:
        errors.append(f"{_rel(report.folder)}: the report has no page")
    for page in report.pages.values():
        for visual in page.visuals.values():
            for ref in visual.fields:
                what = f"{_rel(ref.file)}: {ref.kind.lower()} {ref.entity}.{ref.property}"
                table = model.tables.get(ref.entity or "")
                if table is None:
                    errors.append(f"{what}: table {ref.entity} is not in the semantic model")
                elif ref.kind == "Column" and ref.property not in table.columns:
                    errors.append(f"{what} is no column of table {ref.entity}")
                elif ref.kind == "Measure" and ref.property not in table.measures:
                    owner = model.measure_owner(ref.property or "")
                    hint = f" (it is defined on {owner})" if owner else ""
                    errors.append(f"{what} is no measure of table {ref.entity}{hint}")
    return errors


def check_credentials(files: Iterable[Path]) -> list[str]:
    errors = []
    for path in files:
        if path.suffix in (".tmdl", ".json", ".pbir", ".pbism", ".pbip"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _CREDENTIAL.search(line):
                    errors.append(f"{_rel(path)}:{number}: looks like a credential; the files must hold none")
    return errors


def check(pbip: Path = PBIP_PATH, manifest: dbt_manifest.Manifest | None = None) -> list[str]:
    """Every inconsistency between the Power BI project, itself and the dbt marts; empty when consistent.

    ``manifest`` defaults to the project's (dbt_manifest.load: ManifestMissing when it is not built).
    """
    manifest = dbt_manifest.load() if manifest is None else manifest
    marts = marts_from_manifest(manifest)
    report_folder, model_folder, errors = project_folders(pbip)
    if model_folder is None:
        return errors
    try:
        model = tmdl.load_model(model_folder)
    except tmdl.TmdlError as exc:
        return [*errors, str(exc)]
    report = pbir.load_report(report_folder)
    errors += check_model(model, marts)
    errors += check_report(report, model)
    errors += check_credentials(p for p in pbip.parent.rglob("*") if p.is_file())
    return errors
