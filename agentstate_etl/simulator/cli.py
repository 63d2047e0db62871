"""`agentstate simulate`: the vendor simulator as a standalone server.

The server's modules (uvicorn, starlette, the world) load inside the command: `agentstate`
registers this command at start-up, and its other commands should not pay for them.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from agentstate_etl.canonical import VENDORS
from agentstate_etl.errors import AgentStateError
from agentstate_etl.settings import parse_day
from agentstate_etl.simulator.config import Faults, SimConfig

LIVE_SPAN = timedelta(days=1)  # how far a moving simulator's center is simulated ahead


def moving_clock(start: datetime, speed: float) -> Callable[[], datetime]:
    """`start`, then moving `speed` times as fast as the real clock."""
    began = time.monotonic()
    return lambda: start + timedelta(seconds=(time.monotonic() - began) * speed)


def simulate(
    port: Annotated[int, typer.Option(help="TCP port to listen on")] = 8765,
    seed: Annotated[int, typer.Option(help="seed of the simulated contact center")] = 7,
    agents: Annotated[int, typer.Option(help="agents per vendor")] = 20,
    days: Annotated[int, typer.Option(help="days of history before now")] = 7,
    start: Annotated[
        str | None, typer.Option(help="first day, YYYY-MM-DD (overrides --days)")
    ] = None,
    now: Annotated[
        str | None, typer.Option(help="the simulated 'now', ISO-8601 (default: the real now)")
    ] = None,
    faults: Annotated[
        str, typer.Option(help="none, all, or a comma list, e.g. rate_limit,late_events")
    ] = "none",
    koreai_timezone: Annotated[str, typer.Option(help="zone of Kore.ai EventTime")] = "UTC",
    koreai_clock: Annotated[
        int, typer.Option(help="Kore.ai EventTime hours: 24 (0-23) or 12 (1-12, no AM/PM)")
    ] = 24,
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    vendors: Annotated[
        str, typer.Option(help="vendors to build before serving (others build on first use)")
    ] = "all",
    tenants: Annotated[
        int, typer.Option(help="tenants per vendor, each with its own data and credentials")
    ] = 1,
    tenants_file: Annotated[
        str | None,
        typer.Option(help="write a tenants file (AGENTSTATE_TENANTS) for every tenant here"),
    ] = None,
    cxengage_retention_days: Annotated[
        float, typer.Option(help="days CxEngage keeps data (its document: 3)")
    ] = 3.0,
    cxengage_max_limit: Annotated[
        int, typer.Option(help="largest CxEngage page served, whatever `limit` asks")
    ] = 1000,
    cxengage_lost_every: Annotated[
        int,
        typer.Option(help="never serve every Nth CxEngage interval of each agent (chain gaps)"),
    ] = 0,
    roster_dir: Annotated[
        str | None,
        typer.Option(help="write the CXone roster files here (default: a new temporary folder)"),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            help="a moving now: 1 follows the real clock, N runs N times faster, 0 stands "
            "still; a moving simulator publishes events as they happen, for one simulated day"
        ),
    ] = 0.0,
) -> None:
    """Serve the CxEngage, NICE CXone and Kore.ai endpoints of docs/vendors.md from a simulated center."""
    import uvicorn

    from agentstate_etl.simulator.app import create_app
    from agentstate_etl.simulator.server import (
        loopback_socket,
        uvicorn_config,
        vendor_env,
        write_roster_files,
        write_tenants_file,
    )
    from agentstate_etl.simulator.world import World

    try:
        served_from = datetime.fromisoformat(now).astimezone(UTC) if now else SimConfig().now
        first_day = parse_day(start, "--start") if start else None
        config = SimConfig(
            seed=seed,
            agents=agents,
            days=days,
            start=first_day or (served_from - timedelta(days=days)).date(),
            now=served_from + LIVE_SPAN if speed > 0 else served_from,
            clock=moving_clock(served_from, speed) if speed > 0 else None,
            koreai_timezone=koreai_timezone,
            koreai_clock=koreai_clock,
            faults=Faults.parse(faults),
            tenants=tenants,
            cxengage_retention=timedelta(days=cxengage_retention_days),
            cxengage_max_limit=cxengage_max_limit,
            cxengage_lost_every=cxengage_lost_every,
        )
    except (AgentStateError, ValueError) as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
    try:  # before building the worlds: a busy port fails at once, in one line
        sock = loopback_socket(port, host)
    except OSError as error:
        typer.secho(
            f"cannot listen on {host}:{port}: {error.strerror or error}; choose another --port",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(code=2) from None
    worlds = [World(config, tenant=k) for k in range(1, tenants + 1)]
    # build before the first request, not during it (a large world takes a while)
    for world in worlds:
        for vendor in VENDORS if vendors == "all" else vendors.split(","):
            world.data(vendor.strip())
    built = VENDORS if vendors == "all" else tuple(v.strip() for v in vendors.split(","))
    rosters: dict[int, str] = {}
    if "cxone" in built:  # history is asked per agent: the agents, as a roster file lists them
        folder = (
            Path(roster_dir)
            if roster_dir
            else Path(tempfile.mkdtemp(prefix="agentstate-sim-roster-"))
        )
        rosters = write_roster_files(dict(enumerate(worlds, start=1)), folder)
    base_url = f"http://{host}:{sock.getsockname()[1]}"
    until = (
        f"now moving {speed:g}x from {served_from:%Y-%m-%dT%H:%M:%SZ} until "
        f"{config.now:%Y-%m-%dT%H:%M:%SZ}"
        if speed > 0
        else f"until {config.now:%Y-%m-%dT%H:%M:%SZ}"
    )
    typer.echo(
        f"vendor simulator on {base_url}: {agents} agents per vendor from {config.first_day} "
        f"{until}, seed {seed}, faults {config.faults.describe()}"
    )
    if tenants_file:
        env = write_tenants_file(
            tenants_file,
            base_url,
            tenants,
            koreai_timezone,
            cxengage_retention_days=cxengage_retention_days,
            cxone_agents_files=rosters,
        )
        typer.echo(
            f"{tenants} tenant(s) per vendor in {tenants_file}; point agentstate at it with:"
        )
    else:
        env = vendor_env(base_url, koreai_timezone, 1, cxengage_retention_days, rosters.get(1, ""))
        typer.echo("point agentstate at it (tenant 1) with:")
    for name, value in env.items():
        typer.echo(f"  export {name}={value}")
    server = uvicorn.Server(uvicorn_config(create_app(worlds), log_level="info"))
    server.run(sockets=[sock])


def main() -> None:
    typer.run(simulate)


if __name__ == "__main__":
    main()
