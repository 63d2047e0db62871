"""Completeness of a vendor's interval chains (docs/vendors.md, CxEngage): gaps the vendor's own links reveal.

Where each interval names its successor (CxEngage's `nextEventId`), a closed interval whose
successor never arrived is a hole in the vendor's data: the time after it is not "no state",
it is unknown. This module finds those holes per agent-day, so they are reported (run metadata,
an asset check) instead of read as zero.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

SAMPLE_SIZE = 5


@dataclass(frozen=True)
class Chain:
    """How a vendor's interval records link: each closed one names the `successor` id of the
    next, by `id`, for the same `agent`; `end` is the parsed (UTC timestamp) end."""

    id: str
    successor: str
    agent: str
    end: str


@dataclass(frozen=True)
class ChainGaps:
    """The gaps of one partition: how many per agent, and a few to look at."""

    per_agent: Counter[str] = field(default_factory=Counter)
    sample: tuple[str, ...] = ()  # "agent id → missing successor", the earliest first

    @property
    def count(self) -> int:
        return self.per_agent.total()

    def metadata(self) -> dict[str, object]:
        """Run metadata: true counts, and a sample whenever there is a gap."""
        figures: dict[str, object] = {"chain_gaps": self.count, "chain_gap_agents": len(self)}
        if self.sample:
            figures["chain_gap_sample"] = list(self.sample)
        return figures

    def __len__(self) -> int:
        return len(self.per_agent)


def chain_gaps(table: pa.Table, chain: Chain, day_start: datetime, until: datetime) -> ChainGaps:
    """Each interval of `table` that ended within `[day_start, until)` and names a successor
    that is not in `table` is a gap of its agent-day.

    `table` holds every record whose start lies in the partition's fetch (day plus lookback, up
    to `until`, the horizon): a successor starts where its predecessor ends, so one that ended
    before `until` has its successor in the fetch, or the vendor never served it. Intervals that
    ended before the day are the previous partition's to report; one still open (or ending at
    or after the horizon) names no successor yet."""
    ends = table.column(chain.end)
    successor = table.column(chain.successor)
    ended_in_day = pc.and_(
        pc.greater_equal(ends, pa.scalar(day_start, ends.type)),
        pc.less(ends, pa.scalar(until, ends.type)),
    )
    # the ids themselves are the set (is_in hashes them once; a unique() first hashed twice)
    known = pc.is_in(successor, value_set=table.column(chain.id))
    missing = pc.and_(
        pc.fill_null(ended_in_day, False),
        pc.and_(pc.is_valid(successor), pc.invert(known)),
    )
    gaps = table.filter(missing).select([chain.agent, chain.id, chain.successor, chain.end])
    if gaps.num_rows == 0:
        return ChainGaps()
    per_agent = Counter(str(agent) for agent in gaps.column(chain.agent).to_pylist())
    first = gaps.take(pc.sort_indices(gaps, [(chain.end, "ascending")])[:SAMPLE_SIZE])
    sample = tuple(
        f"{agent} {event} → {after}"
        for agent, event, after in zip(
            first.column(chain.agent).to_pylist(),
            first.column(chain.id).to_pylist(),
            first.column(chain.successor).to_pylist(),
            strict=True,
        )
    )
    return ChainGaps(per_agent, sample)
