"""The lake's sweep (docs/commands.md, `agentstate sweep`): data objects no manifest names.

A commit removes its own partition's superseded objects, so a partition that is never committed
again keeps what killed or superseded runs left behind (hundreds of objects after repeated
kills). The sweep reads every landing's manifests first, then lists every dataset's objects and
deletes those no manifest names that are older than the grace period: a run still writing
(its objects are fresh) and a reader still reading a replaced landing are left alone, as a
commit's own clean-up leaves them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyarrow.fs as pafs

from agentstate_etl.lake import LANDING_OF, ORPHAN_GRACE_S, Lake


@dataclass(frozen=True)
class LakeSweep:
    named: int  # objects a manifest names (kept)
    removed: int  # unnamed objects past the grace period (deleted)
    young: int  # unnamed objects within the grace period (kept: a run may still commit them)
    removed_bytes: int


def named_objects(lk: Lake) -> set[str]:
    """Every object a committed manifest names, relative to the lake root."""
    named: set[str] = set()
    for landing in sorted(set(LANDING_OF.values())):
        for key in lk.partitions(landing):
            manifest = lk.manifest(landing, key)
            if manifest is not None:
                named.update(manifest.objects.values())
    return named


def sweep_lake(lk: Lake, grace_s: float = ORPHAN_GRACE_S, now: float | None = None) -> LakeSweep:
    """Delete the objects no manifest names that are older than `grace_s` seconds."""
    named = named_objects(lk)  # before listing: an object committed meanwhile is fresh
    cutoff = (time.time() if now is None else now) - grace_s
    removed = young = removed_bytes = 0
    for dataset in sorted(LANDING_OF):
        selector = pafs.FileSelector(f"{lk.root}/{dataset}", recursive=True, allow_not_found=True)
        for info in lk.fs.get_file_info(selector):
            relative = info.path[len(lk.root) + 1 :]
            if info.type != pafs.FileType.File or relative in named:
                continue
            if info.mtime is not None and info.mtime.timestamp() >= cutoff:
                young += 1
                continue
            lk.manifests.delete(info.path)
            removed += 1
            removed_bytes += info.size or 0
    return LakeSweep(len(named), removed, young, removed_bytes)
