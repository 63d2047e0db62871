"""How fast the simulator serves CxEngage pages of 1000 records (bar: >= 150,000 records/s).

    .venv/bin/python benchmarks/bench_simulator.py [--agents 2000] [--days 7] [--concurrency 4]

The simulator runs in its own process; the client fetches every page of each day concurrently
and only checks that each page arrived whole, counting records from the day's `total`
(decoding 1000 records costs the client more than serving them costs the server; `--decode`
adds it back, as the pipeline benchmark's ceiling row does).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, date, datetime, timedelta

import httpx
import orjson

from agentstate_etl.simulator.config import CREDENTIALS
from agentstate_etl.simulator.server import SimulatorProcess

RTA = f"/v1/tenants/{CREDENTIALS.cxengage_tenant_id}/wfm/rta"


async def fetch_all(
    base_url: str, first: date, days: int, concurrency: int, decode: bool
) -> tuple[int, int]:
    auth = (CREDENTIALS.cxengage_username, CREDENTIALS.cxengage_password)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    records = pages = 0
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, auth=auth, limits=limits, timeout=60) as client:

        async def page(start: str, end: str, offset: int) -> int:
            async with gate:
                response = await client.get(
                    RTA, params={"start": start, "end": end, "limit": 1000, "offset": offset}
                )
                response.raise_for_status()
                if decode:
                    return len(orjson.loads(response.content)["results"])
                if not response.content.endswith(b"]}"):
                    raise RuntimeError("truncated page")
                return min(1000, total - offset)

        for n in range(days):
            start = datetime.combine(first + timedelta(days=n), datetime.min.time(), UTC)
            s, e = start.isoformat(), (start + timedelta(days=1)).isoformat()
            total = orjson.loads(
                (await client.get(RTA, params={"start": s, "end": e, "limit": 1})).content
            )["total"]
            counts = await asyncio.gather(*(page(s, e, o) for o in range(0, total, 1000)))
            records += sum(counts)
            pages += len(counts)
    return records, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--decode", action="store_true", help="also orjson-decode each page")
    args = parser.parse_args()
    now = datetime(2026, 3, 20, 23, 59, tzinfo=UTC)
    first = (now - timedelta(days=args.days)).date()
    command = ["--agents", str(args.agents), "--start", first.isoformat(), "--now", now.isoformat()]
    with SimulatorProcess(command) as sim:
        began = time.perf_counter()
        records, pages = asyncio.run(
            fetch_all(sim.base_url, first, args.days, args.concurrency, args.decode)
        )
        elapsed = time.perf_counter() - began
    print(
        f"{records:,} records in {pages:,} pages in {elapsed:.2f} s: "
        f"{records / elapsed:,.0f} records/s "
        f"({args.agents} agents x {args.days} days, concurrency {args.concurrency})"
    )


if __name__ == "__main__":
    main()
