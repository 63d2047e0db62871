"""Every test starts from an environment without the product's variables.

A developer's shell (or CI's) may export AGENTSTATE_*, DAGSTER_HOME or a vendor's variables;
read by a test, they would change what it tests. They are removed once, for the whole session
(session fixtures such as the shared backfill included), and put back at its end. A test sets
what it needs with `monkeypatch`, which undoes it after the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from agentstate_etl.vendors.registry import VENDOR_SPECS

VENDOR_VARIABLES = {
    v.env for spec in VENDOR_SPECS.values() for v in spec.settings.variables().values()
}


def product_variables(environ: dict[str, str] | os._Environ[str]) -> list[str]:
    return [
        name
        for name in environ
        if name.startswith("AGENTSTATE_") or name == "DAGSTER_HOME" or name in VENDOR_VARIABLES
    ]


@pytest.fixture(scope="session", autouse=True)
def isolated_environment() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name in product_variables(os.environ):
            patch.delenv(name)
        yield
