"""`python -m report_tools check | previews --out DIR`.

check     the Power BI project (powerbi/) against the dbt marts of the manifest and against itself
previews  render each report page from the marts in the warehouse (Airflow connection
          snowflake_shopstream): DIR/<page>.png, DIR/index.html, DIR/totals.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from include.shopstream.config import DBT_MANIFEST_PATH


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m report_tools", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check powerbi/ against the dbt marts (reads the dbt manifest)")
    check.add_argument("--manifest", type=Path, default=DBT_MANIFEST_PATH)
    previews = commands.add_parser("previews", help="render the report's pages from the marts")
    previews.add_argument("--out", type=Path, default=Path("output/report"))
    args = parser.parse_args(argv)

    if args.command == "check":
        from include.shopstream import dbt_manifest
        from report_tools import consistency

        try:
            manifest = dbt_manifest.load(args.manifest)
        except (dbt_manifest.ManifestMissing, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        errors = consistency.check(manifest=manifest)
        for error in errors:
            print(error)
        print(f"Power BI project vs dbt marts: {len(errors)} problem(s)" if errors
              else "Power BI project vs dbt marts: every reference resolves")
        return 1 if errors else 0

    import logging

    from report_tools import previews as pv

    logging.getLogger("airflow").setLevel(logging.WARNING)
    content = pv.render_from_warehouse(args.out)
    totals = content["totals"]
    print(f"Report previews ({len(content['pages'])} pages) written to {args.out}/: "
          + ", ".join(p["png"] for p in content["pages"].values()) + ", index.html, totals.json")
    print(f"  revenue {totals['revenue']:,.2f}  orders {totals['orders']:,}  "
          f"average basket {totals['average_basket']:,.2f}  customers {totals['customers']:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
