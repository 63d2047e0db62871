"""The Dagster code location that workspace.yaml loads.

The configuration is read once, when the definitions load (`load_config`), and everything
else is built from it: partitions from AGENTSTATE_START_DATE, one set of assets, one resource
and one job per vendor tenant.
"""

from __future__ import annotations

import warnings

import dagster as dg

from agentstate_etl.config import Config, load_config
from assets.collect import build_collect_jobs, build_collect_sensors
from assets.executors import executor_from_env
from assets.partitions import daily_partitions
from assets.resources import build_resources
from assets.schedule_files import schedule_files, schedule_files_job, schedule_files_sensor
from assets.schedules import build_jobs, build_schedules
from assets.vendor_assets import build_tenant_assets, tenant_asset_keys
from assets.warehouse import build_warehouse_asset, warehouse_sensor

# The single-run backfill policy and concurrency pools are chosen on purpose; that Dagster
# marks them beta or preview is not something an operator reading the UI's logs can act on.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)


def build_definitions(config: Config) -> dg.Definitions:
    partitions = daily_partitions(config.settings.start_date)
    vendor_assets = [
        asset for tenant in config.tenants for asset in build_tenant_assets(tenant, partitions)
    ]
    # the warehouse reads every tenant's landings: its upstreams are whatever tenants exist
    upstream = [key for tenant in config.tenants for key in tenant_asset_keys(tenant)[1:]]
    collect_jobs = build_collect_jobs(config.tenants)
    return dg.Definitions(
        assets=[*vendor_assets, schedule_files, build_warehouse_asset(partitions, upstream)],
        jobs=[*build_jobs(config.tenants), schedule_files_job, *collect_jobs],
        schedules=build_schedules(config.tenants),
        sensors=[
            warehouse_sensor,
            schedule_files_sensor,
            *build_collect_sensors(collect_jobs, config.settings.collect_every_s),
        ],
        resources=build_resources(config),
        executor=executor_from_env(),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_config())
