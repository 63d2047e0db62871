"""What the pipeline needs to know about each vendor, in one table instead of three if-chains."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow

from agentstate_etl.errors import ConfigError
from agentstate_etl.http import FetchStats, Timeouts
from agentstate_etl.intervals import EventSource
from agentstate_etl.vendors.cxengage import records as cxengage_records
from agentstate_etl.vendors.cxengage.client import CxEngageClient
from agentstate_etl.vendors.cxone import records as cxone_records
from agentstate_etl.vendors.cxone.client import CxOneClient
from agentstate_etl.vendors.koreai import records as koreai_records
from agentstate_etl.vendors.koreai.client import KoreAiClient

Fetch = Callable[
    [dict[str, str], datetime, datetime, str, "httpx.AsyncBaseTransport | None", Timeouts | None],
    Coroutine[Any, Any, tuple[pa_arrow.Table, FetchStats]],
]


@dataclass(frozen=True)
class VendorSpec:
    name: str
    tenant_variable: str
    raw_fields: dict[str, pa_arrow.DataType]
    model: type[pa.DataFrameModel]
    parsed_from: dict[str, str]
    parse: Callable[[pd.DataFrame, str], pd.DataFrame]
    events: EventSource
    fetch: Fetch
    zone_variable: str | None = None

    def tenant_id(self, config: dict[str, str]) -> str:
        return config[self.tenant_variable]

    def zone(self, config: dict[str, str]) -> str:
        return config.get(self.zone_variable, "UTC") if self.zone_variable else "UTC"

    def raw_schema(self) -> pa_arrow.Schema:
        """The landed raw table: every wire field plus the parsed UTC timestamps."""
        fields = [pa_arrow.field(name, kind) for name, kind in self.raw_fields.items()]
        fields += [
            pa_arrow.field(name, pa_arrow.timestamp("ms", tz="UTC")) for name in self.parsed_from
        ]
        return pa_arrow.schema(fields)


async def _fetch_cxengage(
    config: dict[str, str],
    start: datetime,
    end: datetime,
    partition: str,
    transport: httpx.AsyncBaseTransport | None,
    timeouts: Timeouts | None = None,
) -> tuple[pa_arrow.Table, FetchStats]:
    async with CxEngageClient(
        config["CXENGAGE_BASE_URL"],
        config["CXENGAGE_TENANT_ID"],
        config["CXENGAGE_USERNAME"],
        config["CXENGAGE_PASSWORD"],
        partition=partition,
        transport=transport,
        timeouts=timeouts,
    ) as client:
        table = await client.fetch_intervals(start, end, cxengage_records.RAW_FIELDS)
        return table, client.stats


def cxone_client(
    config: dict[str, str],
    partition: str,
    transport: httpx.AsyncBaseTransport | None,
    timeouts: Timeouts | None = None,
) -> CxOneClient:
    return CxOneClient(
        config["CXONE_BASE_URL"],
        config["CXONE_TOKEN_URL"],
        config["CXONE_CLIENT_ID"],
        config["CXONE_CLIENT_SECRET"],
        partition=partition,
        transport=transport,
        timeouts=timeouts,
    )


async def _fetch_cxone(
    config: dict[str, str],
    start: datetime,
    end: datetime,
    partition: str,
    transport: httpx.AsyncBaseTransport | None,
    timeouts: Timeouts | None = None,
) -> tuple[pa_arrow.Table, FetchStats]:
    async with cxone_client(config, partition, transport, timeouts) as client:
        table = await client.fetch_history(start, end, cxone_records.RAW_FIELDS)
        return table, client.stats


async def _fetch_koreai(
    config: dict[str, str],
    start: datetime,
    end: datetime,
    partition: str,
    transport: httpx.AsyncBaseTransport | None,
    timeouts: Timeouts | None = None,
) -> tuple[pa_arrow.Table, FetchStats]:
    async with KoreAiClient(
        config["KOREAI_BASE_URL"],
        config["KOREAI_ACCOUNT_ID"],
        config["KOREAI_CLIENT_ID"],
        config["KOREAI_CLIENT_SECRET"],
        partition=partition,
        transport=transport,
        timeouts=timeouts,
    ) as client:
        table = await client.fetch_activity(start, end, koreai_records.RAW_FIELDS)
        return table, client.stats


VENDOR_SPECS: dict[str, VendorSpec] = {
    "cxengage": VendorSpec(
        name="cxengage",
        tenant_variable="CXENGAGE_TENANT_ID",
        raw_fields=cxengage_records.RAW_FIELDS,
        model=cxengage_records.CxEngageRecord,
        parsed_from=cxengage_records.PARSED_FROM,
        parse=cxengage_records.parse,
        events=cxengage_records.EVENTS,
        fetch=_fetch_cxengage,
    ),
    "cxone": VendorSpec(
        name="cxone",
        tenant_variable="CXONE_CLIENT_ID",
        raw_fields=cxone_records.RAW_FIELDS,
        model=cxone_records.CxOneRecord,
        parsed_from=cxone_records.PARSED_FROM,
        parse=cxone_records.parse,
        events=cxone_records.EVENTS,
        fetch=_fetch_cxone,
    ),
    "koreai": VendorSpec(
        name="koreai",
        tenant_variable="KOREAI_ACCOUNT_ID",
        raw_fields=koreai_records.RAW_FIELDS,
        model=koreai_records.KoreAiEvent,
        parsed_from=koreai_records.PARSED_FROM,
        parse=koreai_records.parse,
        events=koreai_records.EVENTS,
        fetch=_fetch_koreai,
        zone_variable="KOREAI_TIMEZONE",
    ),
}


def vendor_spec(vendor: str) -> VendorSpec:
    try:
        return VENDOR_SPECS[vendor]
    except KeyError:
        raise ConfigError(
            f"unknown vendor {vendor!r}; expected one of {', '.join(VENDOR_SPECS)}"
        ) from None


def describe(stats: Any) -> dict[str, int]:
    """Fetch counters as plain ints for run metadata."""
    return {k: int(v) for k, v in vars(stats).items() if isinstance(v, int | float)}
