"""The Power BI project's companions: the consistency check of powerbi/ against the dbt marts, and the
previews of the report's pages rendered from the marts (Power BI Desktop runs on Windows only)."""
