"""The dbt manifest (``include/dbt/shopstream/target/manifest.json``, built by `make manifest`), read in one place.

The DAG (the tests' attached models), the layer counts (the warehouse relation of every model), the
Power BI check (the marts' contracts), the project report (how many nodes of each type) and the tests
read the manifest through this module. Parsing it is the costly part (over a megabyte of JSON): :func:`load`
reads a file once per version (path, modification time and size) and hands the same :class:`Manifest`
to every later caller, so a DAG parse reads it once and a rebuilt manifest is read again.

Standard library only: the DAG imports it at parse time. Cosmos reads the manifest on its own
(``ProjectConfig.manifest_path``); that parse is Cosmos', not ours.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from include.shopstream.config import DBT_MANIFEST_PATH

# The node types dbt builds as relations in the warehouse (tests, operations and analyses build none).
BUILT_RESOURCE_TYPES = ("model", "snapshot", "seed")

Node = Mapping[str, Any]  # one entry of the manifest's "nodes", "sources" or "exposures", as dbt writes it


class ManifestMissing(FileNotFoundError):
    """No manifest at the path: `make manifest` builds it (the image builds its own, see the Dockerfile)."""


@dataclass(frozen=True)
class Manifest:
    """A parsed manifest: ``data`` is the JSON document as dbt wrote it (read-only by convention: shared)."""

    data: Mapping[str, Any]

    def nodes(self, *resource_types: str) -> dict[str, Node]:
        """unique_id -> node of the given types (``"model"``, ``"test"``, ...), or of every type if none is given."""
        return {uid: node for uid, node in self.data.get("nodes", {}).items()
                if not resource_types or node.get("resource_type") in resource_types}

    def sources(self) -> dict[str, Node]:
        """unique_id (``source.shopstream.<source>.<table>``) -> source table."""
        return dict(self.data.get("sources", {}))

    def relations(self) -> dict[str, str]:
        """Model, snapshot or seed name -> its relation ``DATABASE.SCHEMA.ALIAS`` in upper case.

        Enabled nodes dbt builds only (an ephemeral model has no relation). The warehouse's
        INFORMATION_SCHEMA does not always list views; the manifest always knows them.
        """
        return {
            node["name"]: f"{node['database']}.{node['schema']}.{node['alias']}".upper()
            for node in self.nodes(*BUILT_RESOURCE_TYPES).values()
            if node["config"].get("enabled", True) and node["config"].get("materialized") != "ephemeral"
        }

    def test_attached_nodes(self) -> dict[str, str | None]:
        """Test unique_id -> the node a generic test is defined on (dbt's ``attached_node``); None for a
        singular test, which belongs to no one node."""
        return {uid: node.get("attached_node") for uid, node in self.nodes("test").items()}

    def models_in_folder(self, folder: str) -> list[Node]:
        """The models whose SQL file sits in ``models/<folder>/`` (``"marts"``), in manifest order."""
        def inside(node: Node) -> bool:
            fqn = node.get("fqn") or []
            return (node.get("path") or "").startswith(f"{folder}/") or (len(fqn) > 2 and fqn[1] == folder)

        return [node for node in self.nodes("model").values() if inside(node)]

    def exposure_models(self, exposure: str) -> list[str]:
        """The names of the nodes the exposure ``exposure`` (its name) depends on.

        Raises KeyError naming the exposure when the project defines none by that name.
        """
        found = [e for e in self.data.get("exposures", {}).values() if e.get("name") == exposure]
        if not found:
            raise KeyError(f"the dbt project has no exposure named {exposure!r}")
        nodes = self.data.get("nodes", {})
        return [nodes[uid]["name"] for uid in found[0]["depends_on"]["nodes"] if uid in nodes]

    def resource_counts(self) -> dict[str, int]:
        """How many nodes of each type (model, test, snapshot, source, exposure, ...) the project has."""
        counts = Counter(node["resource_type"] for node in [*self.nodes().values(), *self.sources().values()])
        return {**counts, "exposure": len(self.data.get("exposures", {}))}


def load(path: Path = DBT_MANIFEST_PATH) -> Manifest:
    """The manifest at ``path``, parsed once per version of the file.

    Raises ManifestMissing (a FileNotFoundError) saying to run `make manifest` when there is no file,
    and ValueError naming the file when it is not JSON (a write cut short).
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ManifestMissing(f"no dbt manifest at {path}: run `make manifest` (it parses the dbt project)") from None
    return _parsed(path.resolve(), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _parsed(path: Path, _mtime_ns: int, _size: int) -> Manifest:
    try:
        return Manifest(json.loads(path.read_text()))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not a dbt manifest ({exc}): rebuild it with `make manifest`") from exc


def forget() -> None:
    """Drop the parsed manifests, so that the next :func:`load` reads the file again.

    For a benchmark that times DAG parses in one process: the dag-processor parses each DAG file in a
    fresh process, which reads the manifest every time.
    """
    _parsed.cache_clear()


def relations() -> dict[str, str]:
    """Model, snapshot or seed name -> ``DATABASE.SCHEMA.ALIAS`` (upper case), from the project's manifest."""
    return load().relations()
