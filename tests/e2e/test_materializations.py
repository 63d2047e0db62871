"""A ranged (single-run) backfill reports each day as its own materialization, with its own
figures, not the range's totals repeated on every day."""

from __future__ import annotations

import dagster as dg
import pytest

from agentstate_etl import lake
from agentstate_etl.tenants import environment_tenant
from assets.vendor_assets import RAW_RECORDS, STATE_INTERVALS, STATUS_SUMMARY, tenant_asset_keys
from tests.e2e.conftest import DAYS, Backfill

DATASET = {RAW_RECORDS: lake.RAW, STATE_INTERVALS: lake.INTERVALS, STATUS_SUMMARY: lake.SUMMARY}


def latest(instance: dg.DagsterInstance, key: dg.AssetKey, day: str) -> dg.AssetMaterialization:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=1
    ).records
    assert records, f"no materialization of {key.to_user_string()} {day}"
    materialization = records[0].asset_materialization
    assert materialization is not None
    return materialization


@pytest.mark.parametrize("vendor", ["cxengage", "cxone", "koreai"])
def test_each_day_of_a_ranged_run_has_its_own_row_count(backfill: Backfill, vendor: str) -> None:
    tenant = environment_tenant(vendor, backfill.env)
    landed = lake.Lake.from_url(backfill.home / "lake")
    tenant_id = tenant.resolve(backfill.env).tenant_id
    assert len(DAYS) >= 3
    for key in tenant_asset_keys(tenant):
        dataset = DATASET[key.path[-1]]
        counts = {}
        for day in DAYS:
            metadata = latest(backfill.instance, key, day.isoformat()).metadata
            manifest = landed.manifest(
                lake.LANDING_OF[dataset], lake.PartitionKey(vendor, tenant_id, day)
            )
            assert manifest is not None
            counts[day] = metadata["dagster/row_count"].value
            assert counts[day] == manifest.rows[dataset], (key, day)
            assert metadata["tenant_id"].value == tenant_id
        assert len(set(counts.values())) > 1, f"every day of {key} reports the same count"
