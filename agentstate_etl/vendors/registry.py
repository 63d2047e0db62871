"""What the pipeline needs to know about each vendor, in one table instead of three if-chains."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow

from agentstate_etl.completeness import Chain
from agentstate_etl.errors import ConfigError
from agentstate_etl.http import ClientOptions, FetchStats
from agentstate_etl.intervals import EventSource
from agentstate_etl.settings import VendorSettings
from agentstate_etl.vendors.capabilities import Capabilities
from agentstate_etl.vendors.cxengage import records as cxengage_records
from agentstate_etl.vendors.cxengage.client import CxEngageClient
from agentstate_etl.vendors.cxengage.settings import CxEngageSettings
from agentstate_etl.vendors.cxone import records as cxone_records
from agentstate_etl.vendors.cxone.client import CxOneClient
from agentstate_etl.vendors.cxone.settings import CxOneSettings
from agentstate_etl.vendors.koreai import records as koreai_records
from agentstate_etl.vendors.koreai.client import KoreAiClient
from agentstate_etl.vendors.koreai.settings import KoreAiSettings

Fields = dict[str, pa_arrow.DataType]
# a client method reading raw records: (client, start, end, fields[, agents]) -> table; a
# per-agent vendor's also takes the agents to ask about
RawRead = Callable[..., Awaitable[pa_arrow.Table]]
# a client method reading summaries: (client, agent ids, start, end, fields) -> table
SummaryRead = Callable[[Any, list[str], datetime, datetime, Fields], Awaitable[pa_arrow.Table]]


@dataclass(frozen=True)
class SummaryReport:
    """A vendor's own per-agent state summary, the other side of reconciliation (docs/warehouse.md)."""

    fields: Fields
    parsed_from: dict[str, str]
    model: type[pa.DataFrameModel]
    parse: Callable[[pd.DataFrame], pd.DataFrame]
    to_canonical: Callable[[pd.DataFrame, str], pd.DataFrame]
    read: SummaryRead
    # the vendor's current-state snapshot (agents logged in now, with their site), if it has one
    snapshot: Callable[[Any], Awaitable[list[Any]]] | None = None


@dataclass(frozen=True)
class DayFlagCheck:
    """A warning check over a flag the vendor's `cross_check` sets per day (true: suspect)."""

    name: str
    flag: str  # the cross_check key; a day where it is true fails the check
    description: str
    fix: str


@dataclass(frozen=True)
class VendorSpec:
    name: str
    title: str
    settings: type[VendorSettings]
    raw_fields: Fields
    model: type[pa.DataFrameModel]
    parsed_from: dict[str, str]
    parse: Callable[[pd.DataFrame, str], pd.DataFrame]
    events: EventSource
    read: RawRead
    summary: SummaryReport | None = None
    # a per-agent vendor's own word on which agents exist (its snapshot), if it has one
    roster: Callable[[Any], Awaitable[list[str]]] | None = None
    # figures computed from a partition's landed raw records for run metadata (e.g. which
    # reading of an ambiguous field the tenant's data follows)
    cross_check: Callable[[pa_arrow.Table], dict[str, object]] | None = None
    # how its interval records name their successors, where they do (completeness check)
    chains: Chain | None = None
    # warning checks over flags of `cross_check`
    day_flags: tuple[DayFlagCheck, ...] = ()

    @property
    def capabilities(self) -> Capabilities:
        """What the vendor's document declares (its settings class carries it)."""
        return self.settings.capabilities

    @property
    def has_summary(self) -> bool:
        return self.summary is not None

    def raw_schema(self) -> pa_arrow.Schema:
        """The landed raw table: every wire field plus the parsed UTC timestamps."""
        fields = [pa_arrow.field(name, kind) for name, kind in self.raw_fields.items()]
        fields += [
            pa_arrow.field(name, pa_arrow.timestamp("ms", tz="UTC")) for name in self.parsed_from
        ]
        return pa_arrow.schema(fields)


VENDOR_SPECS: dict[str, VendorSpec] = {
    "cxengage": VendorSpec(
        name="cxengage",
        title="CxEngage",
        settings=CxEngageSettings,
        raw_fields=cxengage_records.RAW_FIELDS,
        model=cxengage_records.CxEngageRecord,
        parsed_from=cxengage_records.PARSED_FROM,
        parse=cxengage_records.parse,
        events=cxengage_records.EVENTS,
        chains=cxengage_records.CHAIN,
        read=CxEngageClient.fetch_intervals,
    ),
    "cxone": VendorSpec(
        name="cxone",
        title="NICE CXone",
        settings=CxOneSettings,
        raw_fields=cxone_records.RAW_FIELDS,
        model=cxone_records.CxOneRecord,
        parsed_from=cxone_records.PARSED_FROM,
        parse=cxone_records.parse,
        events=cxone_records.EVENTS,
        read=CxOneClient.fetch_history,
        summary=SummaryReport(
            fields=cxone_records.SUMMARY_FIELDS,
            parsed_from=cxone_records.SUMMARY_PARSED_FROM,
            model=cxone_records.CxOneSummaryInterval,
            parse=cxone_records.parse_summary,
            to_canonical=cxone_records.summary_to_canonical,
            read=CxOneClient.fetch_summaries,
            snapshot=CxOneClient.fetch_snapshot,
        ),
        roster=CxOneClient.roster,
        cross_check=cxone_records.duration_reading,
    ),
    "koreai": VendorSpec(
        name="koreai",
        title="Kore.ai SmartAssist",
        settings=KoreAiSettings,
        raw_fields=koreai_records.RAW_FIELDS,
        model=koreai_records.KoreAiEvent,
        parsed_from=koreai_records.PARSED_FROM,
        parse=koreai_records.parse,
        events=koreai_records.EVENTS,
        cross_check=koreai_records.clock_hours,
        day_flags=(
            DayFlagCheck(
                "hours_pass_twelve",
                "twelve_hour_clock_suspected",
                "Warns on a day whose EventTime hours never pass 12: EventTime has no AM/PM, so "
                "a 12-hour clock could not be told from a 24-hour one",
                "check with the vendor which clock the tenant's EventTime uses",
            ),
        ),
        read=KoreAiClient.fetch_activity,
    ),
}


async def through_client(
    tenant: VendorSettings,
    read: Callable[[Any], Awaitable[pa_arrow.Table]],
    options: ClientOptions,
) -> tuple[pa_arrow.Table, FetchStats]:
    """`read(client)` with a client of the tenant's, and that client's fetch counters."""
    client = tenant.client(options)
    async with client:
        return await read(client), client.stats


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
