"""The Parquet lake, on a local folder or S3-compatible object storage, committed by manifest.

Layout under the lake root (`AGENTSTATE_LAKE_URL`: a path, or `s3://bucket/prefix`):

    {dataset}/vendor={v}/tenant={t}/date={d}/part-{uuid}.parquet   immutable data objects
    _manifests/{landing}/vendor={v}/tenant={t}/date={d}.json         one per landing, written last

A *landing* is what one step writes for one partition (raw: raw + quarantine; intervals;
summary: summary + requests + its quarantine). Its data objects go to fresh keys first; the
landing becomes visible when its manifest is written, in one PUT on an object store or by a
rename on a local disk, so a reader sees all of a landing's datasets or none of them and a
re-run replaces them all at once. Object stores have no rename, hence the manifest: objects
that no manifest names (a crashed or superseded run's) are never read, and a later commit of
the same partition deletes them once they are older than `ORPHAN_GRACE_S`.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

import orjson
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from agentstate_etl.errors import ConfigError

RAW = "raw"
QUARANTINE = "quarantine"
INTERVALS = "intervals"
SUMMARY = "summary"
SUMMARY_QUARANTINE = "summary_quarantine"
SUMMARY_REQUESTS = "summary_requests"

# which landing commits each dataset
LANDING_OF = {
    RAW: RAW,
    QUARANTINE: RAW,
    INTERVALS: INTERVALS,
    SUMMARY: SUMMARY,
    SUMMARY_REQUESTS: SUMMARY,
    SUMMARY_QUARANTINE: SUMMARY,
}
MANIFESTS = "_manifests"
ORPHAN_GRACE_S = 3600.0


@dataclass(frozen=True, order=True)
class PartitionKey:
    """One vendor tenant's UTC day: the unit every landing is written and replaced in."""

    vendor: str
    tenant: str
    day: date

    @property
    def label(self) -> str:
        return f"{self.vendor}/{self.tenant}/{self.day.isoformat()}"

    def path(self) -> str:
        return (
            f"vendor={self.vendor}/tenant={quote(self.tenant, safe='')}/date={self.day.isoformat()}"
        )


@dataclass(frozen=True)
class Manifest:
    """A committed landing: each dataset's data object and row count, plus metadata."""

    key: PartitionKey
    landing: str
    objects: dict[str, str]  # dataset -> object path relative to the lake root
    rows: dict[str, int]
    metadata: dict[str, str]


def _text_columns(schema: pa.Schema) -> list[str]:
    """Dictionary-encode text only: numbers and times rarely repeat, and trying costs ~40%."""
    return [f.name for f in schema if pa.types.is_dictionary(f.type) or pa.types.is_string(f.type)]


def _s3_filesystem() -> pafs.S3FileSystem:
    """S3 through the standard AWS_* variables (any S3-compatible endpoint)."""
    options: dict[str, Any] = {"region": os.environ.get("AWS_REGION") or "us-east-1"}
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if endpoint:
        parsed = urlparse(endpoint)
        options["endpoint_override"] = parsed.netloc or parsed.path
        options["scheme"] = parsed.scheme or "https"
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        options.update(access_key=key, secret_key=secret)
    return pafs.S3FileSystem(**options)


class Lake:
    """Partition landings on one pyarrow filesystem under one root; see the module docstring."""

    def __init__(self, filesystem: pafs.FileSystem, root: str, url: str) -> None:
        self.fs = filesystem
        self.root = root.rstrip("/")
        self.url = url
        self.is_local = isinstance(filesystem, pafs.LocalFileSystem)

    @classmethod
    def from_url(cls, url: str | Path) -> Lake:
        text = str(url)
        if text.startswith("s3://"):
            parsed = urlparse(text)
            if not parsed.netloc:
                raise ConfigError(f"AGENTSTATE_LAKE_URL must name a bucket: {text!r}")
            root = f"{parsed.netloc}/{parsed.path.strip('/')}".rstrip("/")
            return cls(_s3_filesystem(), root, text)
        if "://" in text and not text.startswith("file://"):
            raise ConfigError(
                f"AGENTSTATE_LAKE_URL must be a local path or s3://bucket/prefix, got {text!r}"
            )
        path = Path(text.removeprefix("file://")).resolve()
        return cls(pafs.LocalFileSystem(), str(path), str(path))

    # ---- paths ---------------------------------------------------------------------------

    def _abs(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def _manifest_path(self, landing: str, key: PartitionKey) -> str:
        return self._abs(f"{MANIFESTS}/{landing}/{key.path()}.json")

    def location(self, relative: str) -> str:
        """Where a reader outside pyarrow finds an object (a local path, or an s3:// URL)."""
        return self._abs(relative) if self.is_local else f"s3://{self._abs(relative)}"

    # ---- writing -------------------------------------------------------------------------

    def _put(self, path: str, payload: bytes) -> None:
        """One object in one write; on a local disk, renamed into place so it appears whole."""
        parent = path.rsplit("/", 1)[0]
        self.fs.create_dir(parent, recursive=True)
        if not self.is_local:
            with self.fs.open_output_stream(path) as out:
                out.write(payload)
            return
        temp = f"{parent}/.{path.rsplit('/', 1)[1]}.{uuid.uuid4().hex}.tmp"
        try:
            with self.fs.open_output_stream(temp) as out:
                out.write(payload)
            self.fs.move(temp, path)
        finally:
            if self.fs.get_file_info(temp).type != pafs.FileType.NotFound:
                self.fs.delete_file(temp)

    def commit(
        self,
        landing: str,
        key: PartitionKey,
        tables: Mapping[str, pa.Table],
        metadata: Mapping[str, str] | None = None,
    ) -> Manifest:
        """Write each dataset's table as a new object, then the landing's manifest, last."""
        objects: dict[str, str] = {}
        for dataset, table in tables.items():
            if LANDING_OF.get(dataset, dataset) != landing:
                raise ValueError(f"dataset {dataset!r} is not part of the {landing!r} landing")
            relative = f"{dataset}/{key.path()}/part-{uuid.uuid4().hex}.parquet"
            self.fs.create_dir(self._abs(relative).rsplit("/", 1)[0], recursive=True)
            pq.write_table(
                table,
                self._abs(relative),
                filesystem=self.fs,
                compression="zstd",
                use_dictionary=_text_columns(table.schema),
            )
            objects[dataset] = relative
        manifest = Manifest(
            key=key,
            landing=landing,
            objects=objects,
            rows={dataset: table.num_rows for dataset, table in tables.items()},
            metadata=dict(metadata or {}),
        )
        payload = {
            "vendor": key.vendor,
            "tenant": key.tenant,
            "date": key.day.isoformat(),
            "landing": landing,
            "objects": objects,
            "rows": manifest.rows,
            "metadata": manifest.metadata,
            "committed_at": time.time(),
        }
        self._put(self._manifest_path(landing, key), orjson.dumps(payload))
        for dataset in objects:
            self._remove_orphans(dataset, key, keep=set(objects.values()))
        return manifest

    def _remove_orphans(self, dataset: str, key: PartitionKey, keep: set[str]) -> None:
        """Objects of a partition that no manifest names and that are past the grace period.

        The grace period lets a reader that read the previous manifest finish its read.
        """
        selector = pafs.FileSelector(self._abs(f"{dataset}/{key.path()}"), allow_not_found=True)
        cutoff = time.time() - ORPHAN_GRACE_S
        for info in self.fs.get_file_info(selector):
            relative = info.path[len(self.root) + 1 :]
            if info.type != pafs.FileType.File or relative in keep:
                continue
            if info.mtime is not None and info.mtime.timestamp() < cutoff:
                self.fs.delete_file(info.path)

    # ---- reading -------------------------------------------------------------------------

    def manifest(self, landing: str, key: PartitionKey) -> Manifest | None:
        try:
            with self.fs.open_input_stream(self._manifest_path(landing, key)) as stream:
                payload = orjson.loads(stream.read())
        except FileNotFoundError:
            return None
        return Manifest(
            key=key,
            landing=landing,
            objects=dict(payload["objects"]),
            rows={k: int(v) for k, v in payload["rows"].items()},
            metadata=dict(payload["metadata"]),
        )

    def has(self, dataset: str, key: PartitionKey) -> bool:
        manifest = self.manifest(LANDING_OF[dataset], key)
        return manifest is not None and dataset in manifest.objects

    def object(self, dataset: str, key: PartitionKey) -> str:
        """The committed object of a dataset's partition (relative to the root)."""
        manifest = self.manifest(LANDING_OF[dataset], key)
        if manifest is None or dataset not in manifest.objects:
            raise FileNotFoundError(
                f"{dataset} for {key.label} is not in the lake ({self.url}); materialize it first"
            )
        return manifest.objects[dataset]

    def read(self, dataset: str, key: PartitionKey, **options: Any) -> pa.Table:
        """A partition's table; `options` go to `pyarrow.parquet.read_table`."""
        return pq.read_table(self._abs(self.object(dataset, key)), filesystem=self.fs, **options)

    def metadata(self, landing: str, key: PartitionKey) -> dict[str, str]:
        manifest = self.manifest(landing, key)
        if manifest is None:
            raise FileNotFoundError(f"no {landing} landing for {key.label} in {self.url}")
        return manifest.metadata

    def partitions(
        self, landing: str, vendor: str | None = None, tenant: str | None = None
    ) -> list[PartitionKey]:
        """Every committed partition of a landing (optionally one vendor or tenant), sorted."""
        base = f"{MANIFESTS}/{landing}"
        if vendor:
            base += f"/vendor={vendor}"
            if tenant:
                base += f"/tenant={quote(tenant, safe='')}"
        selector = pafs.FileSelector(self._abs(base), recursive=True, allow_not_found=True)
        keys = []
        for info in self.fs.get_file_info(selector):
            if info.type != pafs.FileType.File or not info.path.endswith(".json"):
                continue
            parts = dict(
                part.split("=", 1)
                for part in info.path.removesuffix(".json").split("/")
                if "=" in part
            )
            if {"vendor", "tenant", "date"} <= parts.keys():
                keys.append(
                    PartitionKey(
                        parts["vendor"], unquote(parts["tenant"]), date.fromisoformat(parts["date"])
                    )
                )
        return sorted(keys)

    def tenants(self, landing: str, vendor: str) -> list[str]:
        """The tenants of a vendor with any committed partition of a landing."""
        selector = pafs.FileSelector(
            self._abs(f"{MANIFESTS}/{landing}/vendor={vendor}"), allow_not_found=True
        )
        return sorted(
            unquote(info.base_name.removeprefix("tenant="))
            for info in self.fs.get_file_info(selector)
            if info.type == pafs.FileType.Directory and info.base_name.startswith("tenant=")
        )

    def objects(self, dataset: str, keys: Iterable[PartitionKey]) -> list[str]:
        """The committed objects of a dataset for these partitions (those that have one)."""
        found = []
        for key in keys:
            manifest = self.manifest(LANDING_OF[dataset], key)
            if manifest is not None and dataset in manifest.objects:
                found.append(manifest.objects[dataset])
        return found

    def dataset(self, objects: list[str], schema: pa.Schema) -> ds.Dataset:
        """An Arrow dataset over committed objects (DuckDB scans it without an extension)."""
        return ds.dataset(
            [self._abs(o) for o in objects], schema=schema, format="parquet", filesystem=self.fs
        )
