"""Reads a PBIR report folder (``<Name>.Report``): pages, visuals and the model fields they use.

PBIR is plain JSON, one file per object: ``definition.pbir`` (the semantic model it binds, by path),
``definition/report.json``, ``definition/pages/pages.json`` (page order), ``pages/<page>/page.json``
and ``pages/<page>/visuals/<visual>/visual.json``. A field is referenced as
``{"Column"|"Measure"|...: {"Expression": {"SourceRef": {"Entity": <table>}}, "Property": <name>}}``;
inside a filter's query, ``SourceRef`` may name an alias (``Source``) declared in the query's ``From``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIELD_KINDS = ("Column", "Measure", "Aggregation", "HierarchyLevel")


@dataclass(frozen=True)
class FieldRef:
    kind: str  # Column or Measure (an Aggregation or HierarchyLevel wraps a Column)
    entity: str | None
    property: str | None
    file: Path
    where: str  # JSON path inside the file, for messages


@dataclass
class Visual:
    name: str
    folder_name: str
    visual_type: str | None
    title: str | None
    file: Path
    fields: list[FieldRef] = field(default_factory=list)


@dataclass
class Page:
    name: str
    folder_name: str
    display_name: str
    file: Path
    visuals: dict[str, Visual] = field(default_factory=dict)


@dataclass
class Report:
    folder: Path
    dataset_path: str | None
    page_order: list[str]
    pages: dict[str, Page]
    problems: list[str]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def field_refs(obj: Any, file: Path, where: str = "$", aliases: dict[str, str] | None = None) -> list[FieldRef]:
    """Every field reference in a visual's JSON, with the alias of a filter query resolved."""
    refs: list[FieldRef] = []
    aliases = dict(aliases or {})
    if isinstance(obj, dict):
        if isinstance(obj.get("From"), list):
            for source in obj["From"]:
                if isinstance(source, dict) and "Name" in source and "Entity" in source:
                    aliases[source["Name"]] = source["Entity"]
        for kind in FIELD_KINDS:
            inner = obj.get(kind)
            if isinstance(inner, dict) and "Expression" in inner:
                if kind in ("Column", "Measure") and "Property" in inner:
                    source_ref = inner["Expression"].get("SourceRef", {})
                    entity = source_ref.get("Entity") or aliases.get(source_ref.get("Source", ""))
                    refs.append(FieldRef(kind, entity, inner.get("Property"), file, f"{where}.{kind}"))
                else:
                    refs.extend(field_refs(inner["Expression"], file, f"{where}.{kind}.Expression", aliases))
        for key, value in obj.items():
            if key in FIELD_KINDS and isinstance(value, dict) and "Expression" in value:
                continue
            refs.extend(field_refs(value, file, f"{where}.{key}", aliases))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            refs.extend(field_refs(item, file, f"{where}[{i}]", aliases))
    return refs


def _title(visual: dict) -> str | None:
    for container in ("visualContainerObjects", "objects"):
        for entry in visual.get("visual", {}).get(container, {}).get("title", []):
            value = entry.get("properties", {}).get("text", {}).get("expr", {}).get("Literal", {}).get("Value")
            if isinstance(value, str):
                return value.strip("'")
    return None


def load_report(folder: Path) -> Report:
    """Parse ``<Name>.Report``; structural problems are collected, not raised."""
    problems: list[str] = []
    pbir = folder / "definition.pbir"
    dataset_path = None
    if pbir.is_file():
        dataset_path = _load(pbir).get("datasetReference", {}).get("byPath", {}).get("path")
    else:
        problems.append(f"{pbir}: missing")
    pages_dir = folder / "definition" / "pages"
    pages_json = pages_dir / "pages.json"
    order: list[str] = _load(pages_json).get("pageOrder", []) if pages_json.is_file() else []
    if not pages_json.is_file():
        problems.append(f"{pages_json}: missing")
    pages: dict[str, Page] = {}
    for page_file in sorted(pages_dir.glob("*/page.json")):
        data = _load(page_file)
        page = Page(data.get("name", ""), page_file.parent.name, data.get("displayName", ""), page_file)
        if page.name != page.folder_name:
            problems.append(f"{page_file}: name {page.name!r} differs from its folder {page.folder_name!r}")
        for visual_file in sorted(page_file.parent.glob("visuals/*/visual.json")):
            vdata = _load(visual_file)
            visual = Visual(vdata.get("name", ""), visual_file.parent.name, vdata.get("visual", {}).get("visualType"),
                            _title(vdata), visual_file, field_refs(vdata, visual_file))
            if visual.name != visual.folder_name:
                problems.append(f"{visual_file}: name {visual.name!r} differs from its folder {visual.folder_name!r}")
            page.visuals[visual.name] = visual
        pages[page.name] = page
    for name in order:
        if name not in pages:
            problems.append(f"{pages_json}: pageOrder names {name!r}, which has no pages/{name}/page.json")
    for name in pages:
        if name not in order:
            problems.append(f"{pages_json}: page {name!r} is missing from pageOrder")
    return Report(folder, dataset_path, order, pages, problems)
