"""Where steps run: in the run's own process by default, on Celery workers or Kubernetes jobs in
a deployment (`AGENTSTATE_EXECUTOR`, docs/deployment.md).

No step keeps state on a worker's disk: every asset reads and writes the lake, so any worker
can run any step. The one exception is the warehouse (a local DuckDB file with one writer):
its steps carry the Celery queue `warehouse`, which a single worker on the warehouse host
consumes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from agentstate_etl.errors import ConfigError

EXECUTORS = ("default", "celery", "k8s")
WAREHOUSE_QUEUE = "warehouse"
# the warehouse's steps have a queue of their own, so a deployment can size their workers
# apart (they need memory, not vendor rate); any host may run them: the DuckLake is shared
WAREHOUSE_OP_TAGS = {"dagster-celery/queue": WAREHOUSE_QUEUE}


def executor_name() -> str:
    name = os.environ.get("AGENTSTATE_EXECUTOR", "").strip() or "default"
    if name not in EXECUTORS:
        raise ConfigError(
            f"AGENTSTATE_EXECUTOR must be one of {', '.join(EXECUTORS)}, got {name!r}"
        )
    return name


def executor_from_env() -> dg.ExecutorDefinition | None:
    """The code location's executor; None keeps Dagster's default (multiprocess or in-process).

    `celery`: the broker and result backend come from CELERY_BROKER_URL and
    CELERY_RESULT_BACKEND, the same variables deploy/celery.yaml gives the workers.
    `k8s`: each step in its own Kubernetes job, configured by the YAML file
    AGENTSTATE_K8S_EXECUTOR_CONFIG names (deploy/k8s/executor.yaml), else by run config.
    """
    name = executor_name()
    if name == "default":
        return None
    if name == "celery":
        try:
            from dagster_celery import celery_executor
        except ImportError as exc:
            raise ConfigError(
                "AGENTSTATE_EXECUTOR=celery needs dagster-celery: pip install 'agentstate-etl[deploy]'"
            ) from exc
        return celery_executor.configured(
            {
                "broker": {"env": "CELERY_BROKER_URL"},
                "backend": {"env": "CELERY_RESULT_BACKEND"},
            },
            name="celery",
        )
    try:
        from dagster_k8s import k8s_job_executor
    except ImportError as exc:
        raise ConfigError(
            "AGENTSTATE_EXECUTOR=k8s needs dagster-k8s: pip install 'agentstate-etl[k8s]'"
        ) from exc
    config_file = os.environ.get("AGENTSTATE_K8S_EXECUTOR_CONFIG", "").strip()
    if not config_file:
        return k8s_job_executor
    return k8s_job_executor.configured(_execution_config(config_file), name="k8s")


def _execution_config(path: str) -> dict[str, Any]:
    """The `execution: config:` block of a YAML file (deploy/k8s/executor.yaml)."""
    try:
        document = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"AGENTSTATE_K8S_EXECUTOR_CONFIG: cannot read {path}: {exc}") from exc
    config = (document or {}).get("execution", {}).get("config")
    if not isinstance(config, dict):
        raise ConfigError(f"AGENTSTATE_K8S_EXECUTOR_CONFIG: {path} has no execution: config: block")
    return config
