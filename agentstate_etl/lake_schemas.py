"""Schemas of the lake's summary landing (docs/warehouse.md, mart_reconciliation and dim_agents).

The step that lands them (`pipeline`) and the marts that read them both import these, so the
lake, the lower layer, owns them; the interval and raw schemas live with their builders.
"""

from __future__ import annotations

import pyarrow as pa

SUMMARY_SCHEMA = pa.schema(
    [
        ("vendor", pa.string()),
        ("tenant_id", pa.string()),
        ("agent_id", pa.string()),
        ("partition_date", pa.date32()),
        ("state", pa.string()),
        ("vendor_state", pa.string()),
        ("reason", pa.string()),
        ("start_ts", pa.timestamp("ms", tz="UTC")),
        ("end_ts", pa.timestamp("ms", tz="UTC")),
        ("summary_s", pa.float64()),
    ]
)
SUMMARY_REQUEST_SCHEMA = pa.schema(
    [
        ("vendor", pa.string()),
        ("tenant_id", pa.string()),
        ("agent_id", pa.string()),
        ("partition_date", pa.date32()),
        ("intervals", pa.int64()),
    ]
)
AGENT_SITES_SCHEMA = pa.schema(
    [
        ("vendor", pa.string()),
        ("tenant_id", pa.string()),
        ("agent_id", pa.string()),
        ("partition_date", pa.date32()),
        ("site_id", pa.string()),
    ]
)
