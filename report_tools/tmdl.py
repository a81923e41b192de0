"""A small parser of TMDL (Tabular Model Definition Language), enough for the project's own model.

No maintained Python library reads TMDL, so this one reads the subset Power BI Desktop writes for an
import model: ``///`` descriptions, objects declared as ``<type> <name>`` or ``<type> <name> = <expr>``
(multi-line expressions indented two levels deeper than their object), ``key: value`` properties,
flags without value (``isHidden``), ``annotation`` and ``ref`` lines. Indentation is by tabs (Desktop's
default) or by four spaces. Names may be quoted with single quotes (``'Average basket'``).

On top of the generic tree it exposes what the consistency check needs: tables with their columns
(``dataType``, ``sourceColumn``), measures (expression, description, formatString), partitions (mode,
M source), relationships (``fromColumn``/``toColumn``), expressions (Power Query parameters).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

_DECLARATION = re.compile(r"^(?P<type>[A-Za-z]+)\s+(?P<name>'(?:[^']|'')+'|[^\s=:'][^=:]*?)\s*(?:=\s*(?P<value>.*))?$")
_PROPERTY = re.compile(r"^(?P<key>[A-Za-z]+)\s*:\s*(?P<value>.*)$")
_DEFAULT_PROPERTY = re.compile(r"^(?P<key>[A-Za-z]+)\s*=\s*(?P<value>.*)$")
_FLAG = re.compile(r"^[A-Za-z]+$")

# Object types whose declaration line names an object (``table X``); anything else is a property.
OBJECT_TYPES = frozenset({
    "database", "model", "table", "column", "measure", "partition", "relationship", "expression",
    "hierarchy", "level", "role", "tablePermission", "perspective", "perspectiveTable", "cultureInfo",
    "calculationGroup", "calculationItem", "annotation", "extendedProperty", "dataSource", "queryGroup",
    "linguisticMetadata", "translation", "variation", "calendar", "ref", "changedProperty", "function",
})


class TmdlError(ValueError):
    """A line the parser does not understand, with its file and line number."""


@dataclass
class Node:
    """One TMDL object: ``type name [= value]``, its properties and child objects."""

    type: str
    name: str
    value: str | None
    file: Path
    line: int
    description: str | None = None
    properties: dict[str, str | None] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)

    def child(self, type_: str) -> list[Node]:
        return [c for c in self.children if c.type == type_]


def unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == "'":
        return name[1:-1].replace("''", "'")
    return name


def _indent(raw: str) -> tuple[int, str]:
    """(level, content): the leading tabs, or groups of four spaces when a line has no leading tab.
    Spaces after the tabs belong to the content (an expression's own indentation)."""
    tabs = len(raw) - len(raw.lstrip("\t"))
    if tabs:
        return tabs, raw.lstrip("\t ")
    stripped = raw.lstrip(" ")
    return (len(raw) - len(stripped)) // 4, stripped


def parse_text(text: str, file: Path) -> list[Node]:
    """The top-level objects of one .tmdl file."""
    lines = text.splitlines()
    roots: list[Node] = []
    stack: list[tuple[int, Node]] = []
    description: list[str] = []
    i = 0
    while i < len(lines):
        raw, number = lines[i], i + 1
        i += 1
        if not raw.strip():
            continue
        level, content = _indent(raw)
        if content.startswith("///"):
            description.append(content[3:].strip())
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        parent = stack[-1][1] if stack else None
        # An object's multi-line expression sits two levels below the object (one level holds its properties).
        expression_level = level + 2

        def read_block(first: str, min_level: int) -> str:
            """The rest of a ``= value`` expression: the lines indented at least ``min_level``."""
            nonlocal i
            block = [first] if first.strip() else []
            while i < len(lines):
                nxt = lines[i]
                if nxt.strip():
                    nxt_level, _ = _indent(nxt)
                    if nxt_level < min_level:
                        break
                block.append(_strip_levels(nxt, min_level))
                i += 1
            while block and not block[-1].strip():
                block.pop()
            return textwrap.dedent("\n".join(block))

        word = content.split(None, 1)[0].rstrip(":")
        if word in OBJECT_TYPES and (match := _DECLARATION.match(content)) and match["type"] == word:
            value = match["value"]
            if value is not None:
                value = read_block(value, expression_level)
            node = Node(word, unquote(match["name"]), value, file, number, " ".join(description) or None)
            description = []
            if parent is None:
                roots.append(node)
            else:
                parent.children.append(node)
            stack.append((level, node))
            continue
        if parent is None and _FLAG.match(content) and content in OBJECT_TYPES:
            # ``database`` without a name
            node = Node(content, "", None, file, number)
            roots.append(node)
            stack.append((level, node))
            continue
        if parent is None:
            raise TmdlError(f"{file}:{number}: expected an object declaration, got {content!r}")
        if match := _PROPERTY.match(content):
            parent.properties[match["key"]] = match["value"].strip()
        elif match := _DEFAULT_PROPERTY.match(content):
            parent.properties[match["key"]] = read_block(match["value"], level + 1)
        elif _FLAG.match(content):
            parent.properties[content] = None
        else:
            raise TmdlError(f"{file}:{number}: cannot parse {content!r}")
    return roots


def _strip_levels(raw: str, levels: int) -> str:
    for _ in range(levels):
        if raw.startswith("\t"):
            raw = raw[1:]
        elif raw.startswith("    "):
            raw = raw[4:]
    return raw.rstrip()


# --- The semantic model ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    data_type: str | None
    source_column: str | None
    file: Path
    line: int
    properties: dict[str, str | None]


@dataclass(frozen=True)
class Measure:
    table: str
    name: str
    expression: str
    description: str | None
    format_string: str | None
    file: Path
    line: int


@dataclass(frozen=True)
class Partition:
    table: str
    name: str
    kind: str
    mode: str | None
    source: str
    file: Path
    line: int


@dataclass
class Table:
    name: str
    file: Path
    line: int
    description: str | None
    properties: dict[str, str | None]
    columns: dict[str, Column] = field(default_factory=dict)
    measures: dict[str, Measure] = field(default_factory=dict)
    partitions: list[Partition] = field(default_factory=list)


@dataclass(frozen=True)
class Relationship:
    name: str
    from_table: str
    from_column: str
    to_table: str
    to_column: str
    properties: dict[str, str | None]
    file: Path
    line: int


@dataclass(frozen=True)
class Expression:
    name: str
    value: str
    description: str | None
    file: Path
    line: int

    @property
    def is_parameter(self) -> bool:
        return bool(re.search(r"IsParameterQuery\s*=\s*true", self.value))


@dataclass
class SemanticModel:
    folder: Path
    model: Node | None
    database: Node | None
    tables: dict[str, Table]
    relationships: list[Relationship]
    expressions: dict[str, Expression]
    cultures: list[str]

    def measure_owner(self, name: str) -> str | None:
        return next((t.name for t in self.tables.values() if name in t.measures), None)


def split_column_ref(ref: str) -> tuple[str, str]:
    """``fct_orders.order_date`` or ``'My table'.'My column'`` -> (table, column)."""
    match = re.fullmatch(r"\s*('(?:[^']|'')+'|[^.']+)\.('(?:[^']|'')+'|.+?)\s*", ref)
    if not match:
        raise TmdlError(f"not a column reference: {ref!r}")
    return unquote(match[1]), unquote(match[2])


def load_model(folder: Path) -> SemanticModel:
    """Parse ``<Name>.SemanticModel/definition`` (``folder`` is the SemanticModel or its definition)."""
    definition = folder / "definition" if (folder / "definition").is_dir() else folder
    nodes: list[Node] = []
    for path in sorted(definition.rglob("*.tmdl")):
        roots = parse_text(path.read_text(encoding="utf-8"), path)
        if roots and roots[0].type == "model":
            # model.tmdl: the annotations, query groups and refs after the model block belong to it.
            roots[0].children.extend(roots[1:])
            roots = roots[:1]
        nodes.extend(roots)
    tables: dict[str, Table] = {}
    relationships: list[Relationship] = []
    expressions: dict[str, Expression] = {}
    model = database = None
    cultures: list[str] = []
    for node in nodes:
        if node.type == "table":
            tables[node.name] = _table(node)
        elif node.type == "relationship":
            from_table, from_column = split_column_ref(node.properties.get("fromColumn") or "")
            to_table, to_column = split_column_ref(node.properties.get("toColumn") or "")
            relationships.append(Relationship(node.name, from_table, from_column, to_table, to_column,
                                              node.properties, node.file, node.line))
        elif node.type == "expression":
            expressions[node.name] = Expression(node.name, node.value or "", node.description, node.file, node.line)
        elif node.type == "model":
            model = node
        elif node.type == "database":
            database = node
        elif node.type == "cultureInfo":
            cultures.append(node.name)
    return SemanticModel(definition, model, database, tables, relationships, expressions, cultures)


def _table(node: Node) -> Table:
    table = Table(node.name, node.file, node.line, node.description, node.properties)
    for child in node.children:
        if child.type == "column":
            table.columns[child.name] = Column(node.name, child.name, child.properties.get("dataType"),
                                               child.properties.get("sourceColumn"), child.file, child.line,
                                               child.properties)
        elif child.type == "measure":
            table.measures[child.name] = Measure(node.name, child.name, (child.value or "").strip(),
                                                 child.description, child.properties.get("formatString"),
                                                 child.file, child.line)
        elif child.type == "partition":
            table.partitions.append(Partition(node.name, child.name, (child.value or "").strip(),
                                              child.properties.get("mode"), child.properties.get("source") or "",
                                              child.file, child.line))
    return table
