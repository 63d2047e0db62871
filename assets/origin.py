"""The code location's origin for the runs the CLI launches in its own process.

The UI lists a job's runs, and draws them in the overview timeline, by the repository they
were launched from (`repository@location`). A run executed in process has no such origin, so
the UI would show it nowhere but the runs list. The CLI's runs are therefore tagged with the
label of the location `workspace.yaml` declares at creation, and given its full origin when
they end, exactly as if launched from the UI (tests/e2e/test_cli.py asks the UI's GraphQL API
over workspace.yaml, so the names here cannot drift from it)."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import dagster as dg
from dagster._core.definitions.repository_definition.valid_definitions import (
    SINGLETON_REPOSITORY_NAME,
)
from dagster._core.remote_origin import (
    ManagedGrpcPythonEnvCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.storage.tags import REPOSITORY_LABEL_TAG
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

WORKSPACE = Path(__file__).parents[1] / "workspace.yaml"
LOCATION_NAME = "agentstate"  # workspace.yaml's location_name
MODULE_NAME = "assets.definitions"  # and its python_module


@cache
def repository_origin() -> RemoteRepositoryOrigin:
    """The repository of the code location workspace.yaml loads, as the UI and daemon see it."""
    target = LoadableTargetOrigin(
        executable_path=sys.executable,
        module_name=MODULE_NAME,
        working_directory=str(WORKSPACE.parent),
    )
    location = ManagedGrpcPythonEnvCodeLocationOrigin(target, LOCATION_NAME)
    return RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME)


def origin_tags() -> dict[str, str]:
    """Tags a run gets at creation so the UI's job page lists it while it runs."""
    return {REPOSITORY_LABEL_TAG: repository_origin().get_label()}


def adopt(instance: dg.DagsterInstance, run_id: str, job_name: str) -> None:
    """Give a finished in-process run the job origin a UI-launched run has."""
    run = instance.get_run_by_id(run_id)
    if run is not None and run.remote_job_origin is None:
        origin: RemoteJobOrigin = repository_origin().get_job_origin(job_name)
        instance.run_storage.replace_job_origin(run, origin)
