"""Stops a process just before it writes a chosen manifest, so a test can `kill -9` it there.

Imported into a Celery worker (`dagster-celery worker start -i ...`) or a plain subprocess:
the crash the lake must survive is the one between a landing's data objects and its manifest.

- `AGENTSTATE_TEST_PAUSE_MANIFEST`: part of the manifest path to stop at,
- `AGENTSTATE_TEST_PAUSE_MARKER`: a file this process creates, holding its pid, when it stops.
  Only the process that creates it stops for good; a later process reaching the same manifest
  (the step run again) waits until the file `<marker>.release` exists, so the test can look
  at the lake between the kill and the re-run.
- `AGENTSTATE_TEST_PAUSE_RESUME=1`: no kill; the process that creates the marker waits until
  `<marker>.resume` exists, then writes its manifest; other processes do not stop (so a test
  can let another run commit the same landing in between).
"""

from __future__ import annotations

import os
import time

from agentstate_etl import lake


def _install() -> None:
    pattern = os.environ.get("AGENTSTATE_TEST_PAUSE_MANIFEST")
    marker = os.environ.get("AGENTSTATE_TEST_PAUSE_MARKER")
    resume = os.environ.get("AGENTSTATE_TEST_PAUSE_RESUME") == "1"
    if not pattern or not marker:
        return

    def stop_here(path: str) -> None:
        if pattern not in path:
            return
        try:
            claim = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            while not resume and not os.path.exists(f"{marker}.release"):
                time.sleep(0.05)
            return
        os.write(claim, str(os.getpid()).encode())
        os.close(claim)
        while not (resume and os.path.exists(f"{marker}.resume")):  # or until killed
            time.sleep(0.05)

    for store in (lake.LocalManifests, lake.S3Manifests):
        original = store.put

        def put(
            self: lake.ManifestStore,
            path: str,
            payload: bytes,
            expected: str | None,
            _original=original,  # noqa: ANN001
        ) -> None:
            stop_here(path)
            _original(self, path, payload, expected)

        store.put = put  # type: ignore[method-assign]


_install()
