"""The Dagster code location that workspace.yaml loads."""

from __future__ import annotations

import dagster as dg

from agentstate_etl.canonical import VENDORS
from assets.executors import executor_from_env
from assets.resources import resources_from_env
from assets.schedule_files import schedule_files, schedule_files_job, schedule_files_sensor
from assets.schedules import jobs, schedules
from assets.vendor_assets import build_vendor_assets
from assets.warehouse import warehouse, warehouse_sensor

vendor_assets = [asset for vendor in VENDORS for asset in build_vendor_assets(vendor)]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[*vendor_assets, schedule_files, warehouse],
        jobs=[*jobs, schedule_files_job],
        schedules=schedules,
        sensors=[warehouse_sensor, schedule_files_sensor],
        resources=resources_from_env(),
        executor=executor_from_env(),
    )
