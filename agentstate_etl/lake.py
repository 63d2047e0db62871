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

A manifest is replaced only if it is still the one the writer saw before writing its data
objects (compare-and-swap: a conditional PUT, `If-Match`/`If-None-Match`, on S3; a lock and a
comparison before the rename locally). Two runs of one partition at once (overlapping
backfills, a re-run launched while the schedule's run is still going) therefore never
interleave. What the later commit does depends on how it was made:

- a writer that merged its data with the landing it read (`replaces=`, the collector) fails
  with `LakeConflictError` instead of silently dropping what the other run added; it re-reads
  and tries again;
- a writer that computed its landing on its own (a backfill's fetch, intervals, a summary, a
  schedule file) reads the landing the other run committed and keeps the fresher of the two:
  the other run's when it is as fresh as this one's (`supersedes` says when it is not; by
  default it always is), its own objects then deleted and the other's manifest returned with
  `concurrent` set; else it commits again over the other's (compare-and-swap again, at most
  `CONFLICT_ATTEMPTS` times). Its objects are fresh, so no orphan sweep (which takes only
  objects older than `ORPHAN_GRACE_S`) can have deleted them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import EllipsisType
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlparse

import orjson
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from agentstate_etl.errors import ConfigError, LakeConflictError

RAW = "raw"
QUARANTINE = "quarantine"
INTERVALS = "intervals"
SUMMARY = "summary"
SUMMARY_QUARANTINE = "summary_quarantine"
SUMMARY_REQUESTS = "summary_requests"
AGENT_SITES = "agent_sites"  # each agent's site in the vendor's snapshot, taken with the summary
# Schedules come from the WFM tool, one file per report day for every vendor: they land under
# the pseudo-source `SCHEDULE_SOURCE`, tenant `all`.
SCHEDULES = "schedules"
SCHEDULE_QUARANTINE = "schedule_quarantine"
SCHEDULE_SOURCE = "wfm"

# which landing commits each dataset
LANDING_OF = {
    RAW: RAW,
    QUARANTINE: RAW,
    INTERVALS: INTERVALS,
    SUMMARY: SUMMARY,
    SUMMARY_REQUESTS: SUMMARY,
    SUMMARY_QUARANTINE: SUMMARY,
    AGENT_SITES: SUMMARY,
    SCHEDULES: SCHEDULES,
    SCHEDULE_QUARANTINE: SCHEDULES,
}
# raw landing metadata: the horizon (everything before it was settled when fetched); for a
# collected partition, the overlap its polls re-read, and where its records begin when that
# is later than its window's start (first collected mid-day, or a gap the vendor had expired)
EXTRACTED_AT = "agentstate.extracted_at"
COLLECT_OVERLAP = "agentstate.collect_overlap_s"
COVERED_FROM = "agentstate.covered_from"
MANIFESTS = "_manifests"
ORPHAN_GRACE_S = 3600.0
# how many times a fresher landing is committed again over those other runs committed meanwhile
CONFLICT_ATTEMPTS = 5


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
    version: str | None = field(default=None, compare=False)  # the store's token, for `replaces`
    # returned by `Lake.commit`: another run committed this landing while this one wrote its
    # own, and this one was discarded for that one (as fresh; see the module docstring)
    concurrent: bool = field(default=False, compare=False)


# given the landing another run committed meanwhile: whether this run's should replace it
Supersedes = Callable[[Manifest], bool]


def raw_freshness(metadata: Mapping[str, str]) -> tuple[datetime, bool]:
    """How fresh a raw landing is: its horizon, then whether its records begin at its window's
    start (a backfill's) rather than later (a collection begun mid-day)."""
    horizon = metadata.get(EXTRACTED_AT)
    at = datetime.fromisoformat(horizon) if horizon else datetime.min.replace(tzinfo=UTC)
    return at, COVERED_FROM not in metadata


def fresher_raw(metadata: Mapping[str, str]) -> Supersedes:
    """A raw landing with `metadata` replaces another only if its horizon is later (or as late
    and it begins earlier): two runs that fetched the same settled window landed the same
    records, and the one committed first stands."""
    return lambda theirs: raw_freshness(metadata) > raw_freshness(theirs.metadata)


def _text_columns(schema: pa.Schema) -> list[str]:
    """Dictionary-encode text only: numbers and times rarely repeat, and trying costs ~40%."""
    return [f.name for f in schema if pa.types.is_dictionary(f.type) or pa.types.is_string(f.type)]


def _other_columns(schema: pa.Schema) -> list[str]:
    """Min/max statistics for numbers and times only: on text (ids, names) they filter nothing
    and cost a sixth of a raw landing's write."""
    text = set(_text_columns(schema))
    return [f.name for f in schema if f.name not in text]


@dataclass(frozen=True)
class S3Endpoint:
    """Where S3 is, from the standard AWS variables, for both pyarrow and boto3.

    Credentials are not read here: both SDKs find them by the standard chain
    (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, profiles, instance or
    pod roles), so temporary credentials and Kubernetes service-account roles work too.
    """

    url: str | None  # scheme://host[:port] of an S3-compatible store; None means AWS itself
    region: str

    @classmethod
    def from_env(cls) -> S3Endpoint:
        name = (
            "AWS_ENDPOINT_URL_S3" if os.environ.get("AWS_ENDPOINT_URL_S3") else "AWS_ENDPOINT_URL"
        )
        url = os.environ.get(name, "").strip().rstrip("/") or None
        if url is not None:
            parsed = urlparse(url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise ConfigError(
                    f"{name} must be an http(s) URL such as https://s3.example.com or "
                    f"http://127.0.0.1:9000, got {url!r}"
                )
            if parsed.path or parsed.query:
                raise ConfigError(
                    f"{name} must be scheme://host[:port] without a path, got {url!r}"
                )
        region = (
            os.environ.get("AWS_REGION", "").strip()
            or os.environ.get("AWS_DEFAULT_REGION", "").strip()
            or "us-east-1"
        )
        return cls(url=url, region=region)

    def filesystem(self) -> pafs.S3FileSystem:
        options: dict[str, Any] = {"region": self.region}
        if self.url is not None:
            parsed = urlparse(self.url)
            options.update(endpoint_override=parsed.netloc, scheme=parsed.scheme)
        return pafs.S3FileSystem(**options)

    def client(self) -> Any:
        """A boto3 S3 client: pyarrow cannot send conditional PUTs, which manifests need."""
        import boto3  # only an S3 lake needs it
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.url,
            region_name=self.region,
            config=Config(retries={"mode": "standard", "max_attempts": 5}),
        )


class ManifestStore(Protocol):
    """Reads manifests with a version token and replaces them only if the token still holds;
    also deletes the objects no manifest names (pyarrow's S3 delete leaves a directory marker
    object behind, one more thing to list and sweep)."""

    def get(self, path: str) -> tuple[bytes, str] | None:
        """The manifest and its version token, or None when there is none."""
        ...

    def put(self, path: str, payload: bytes, expected: str | None) -> None:
        """Write `payload` if the manifest's version is still `expected` (None: absent), else
        raise `LakeConflictError`."""
        ...

    def delete(self, path: str) -> None: ...


class LocalManifests:
    """Manifests on a local disk: under an exclusive lock, compare, then rename into place."""

    def get(self, path: str) -> tuple[bytes, str] | None:
        try:
            payload = Path(path).read_bytes()
        except FileNotFoundError:
            return None
        return payload, hashlib.sha256(payload).hexdigest()

    def put(self, path: str, payload: bytes, expected: str | None) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        lock_path = target.with_name(f".{target.name}.lock")
        temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self.get(path)
            if (current[1] if current else None) != expected:
                raise LakeConflictError(f"{path} changed since this run read it")
            try:
                temp.write_bytes(payload)
                os.replace(temp, target)
            finally:
                temp.unlink(missing_ok=True)

    def delete(self, path: str) -> None:
        Path(path).unlink(missing_ok=True)


class S3Manifests:
    """Manifests on S3: the ETag is the version; `If-Match`/`If-None-Match` make the PUT a CAS.

    A store that answers 501 to conditional headers gets plain PUTs from then on (the
    manifest's single PUT still commits all or nothing; only the check for a concurrent
    writer is lost).
    """

    def __init__(self, endpoint: S3Endpoint) -> None:
        self._client = endpoint.client()
        self.conditional = True

    @staticmethod
    def _split(path: str) -> tuple[str, str]:
        bucket, _, key = path.partition("/")
        return bucket, key

    def get(self, path: str) -> tuple[bytes, str] | None:
        bucket, key = self._split(path)
        try:
            response = self._client.get_object(Bucket=bucket, Key=key)
        except self._client.exceptions.NoSuchKey:
            return None
        return response["Body"].read(), str(response["ETag"])

    def put(self, path: str, payload: bytes, expected: str | None) -> None:
        from botocore.exceptions import ClientError

        bucket, key = self._split(path)
        request: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "Body": payload,
            "ContentType": "application/json",
        }
        if self.conditional:
            request["IfMatch" if expected else "IfNoneMatch"] = expected or "*"
        try:
            self._client.put_object(**request)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = exc.response.get("Error", {}).get("Code")
            # 412: the manifest is not the one we saw; 409: a concurrent conditional write won
            if status in (409, 412) or code in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise LakeConflictError(f"s3://{path} changed since this run read it") from exc
            if self.conditional and (status == 501 or code == "NotImplemented"):
                self.conditional = False
                self.put(path, payload, expected)
                return
            raise

    def delete(self, path: str) -> None:
        bucket, key = self._split(path)
        self._client.delete_object(Bucket=bucket, Key=key)


class Lake:
    """Partition landings on one pyarrow filesystem under one root; see the module docstring."""

    def __init__(
        self,
        filesystem: pafs.FileSystem,
        root: str,
        url: str,
        manifests: ManifestStore | None = None,
    ) -> None:
        self.fs = filesystem
        self.root = root.rstrip("/")
        self.url = url
        self.is_local = isinstance(filesystem, pafs.LocalFileSystem)
        if manifests is None:
            if not self.is_local:
                raise ValueError("a lake on an object store needs its ManifestStore")
            manifests = LocalManifests()
        self.manifests = manifests

    @classmethod
    def from_url(cls, url: str | Path) -> Lake:
        text = str(url)
        if text.startswith("s3://"):
            parsed = urlparse(text)
            if not parsed.netloc:
                raise ConfigError(f"AGENTSTATE_LAKE_URL must name a bucket: {text!r}")
            root = f"{parsed.netloc}/{parsed.path.strip('/')}".rstrip("/")
            endpoint = S3Endpoint.from_env()
            return cls(endpoint.filesystem(), root, text, S3Manifests(endpoint))
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

    def commit(
        self,
        landing: str,
        key: PartitionKey,
        tables: Mapping[str, pa.Table],
        metadata: Mapping[str, str] | None = None,
        replaces: Manifest | None | EllipsisType = ...,
        supersedes: Supersedes | None = None,
    ) -> Manifest:
        """Write each dataset's table as a new object, then the landing's manifest, last; the
        manifest committed.

        With `replaces`, raises `LakeConflictError` (and removes its own objects) when the
        landing is no longer that manifest (None: when one appeared): a writer that merged
        its data with what it read commits only over what it read. Without it, another run's
        landing committed after this one started writing is kept when `supersedes(theirs)` is
        false (always, when None): this run's objects are removed and that manifest is
        returned with `concurrent` set; else this one is committed over it.
        """
        manifest_path = self._manifest_path(landing, key)
        if replaces is ...:
            seen = self.manifests.get(manifest_path)
            expected = seen[1] if seen else None
        else:
            expected = replaces.version if replaces is not None else None
        objects: dict[str, str] = {}
        started = time.time()
        for dataset, table in tables.items():
            if LANDING_OF.get(dataset, dataset) != landing:
                raise ValueError(f"dataset {dataset!r} is not part of the {landing!r} landing")
            relative = f"{dataset}/{key.path()}/part-{uuid.uuid4().hex}.parquet"
            if self.is_local:  # object stores have no directories to make
                self.fs.create_dir(self._abs(relative).rsplit("/", 1)[0], recursive=True)
            pq.write_table(
                table,
                self._abs(relative),
                filesystem=self.fs,
                compression="zstd",
                use_dictionary=_text_columns(table.schema),
                write_statistics=_other_columns(table.schema),
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
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                self.manifests.put(manifest_path, orjson.dumps(payload), expected)
                break
            except LakeConflictError as exc:
                if replaces is ...:  # computed on its own: the fresher landing stands
                    theirs = self.manifest(landing, key)
                    if theirs is not None and not (supersedes and supersedes(theirs)):
                        self._discard(objects)
                        return replace(theirs, concurrent=True)
                    fresh = time.time() - started < ORPHAN_GRACE_S / 2
                    if attempt < CONFLICT_ATTEMPTS and fresh:
                        expected = theirs.version if theirs is not None else None
                        continue  # this one is fresher: committed over theirs
                self._discard(objects)
                raise LakeConflictError(
                    f"{landing} of {key.label} was committed by another run while this one was "
                    f"writing it; the lake keeps that landing ({exc}). Re-run the partition if "
                    "this run's data is wanted."
                ) from exc
        for dataset in objects:
            self._remove_orphans(dataset, key, keep=set(objects.values()))
        return manifest

    def _discard(self, objects: Mapping[str, str]) -> None:
        """A commit's own objects, which no manifest names (nobody reads them)."""
        for relative in objects.values():
            with contextlib.suppress(Exception):
                self.manifests.delete(self._abs(relative))

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
                self.manifests.delete(info.path)

    # ---- reading -------------------------------------------------------------------------

    def manifest(self, landing: str, key: PartitionKey) -> Manifest | None:
        found = self.manifests.get(self._manifest_path(landing, key))
        if found is None:
            return None
        payload = orjson.loads(found[0])
        return Manifest(
            key=key,
            landing=landing,
            objects=dict(payload["objects"]),
            rows={k: int(v) for k, v in payload["rows"].items()},
            metadata=dict(payload["metadata"]),
            version=found[1],
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
        return self.read_object(self.object(dataset, key), **options)

    def read_object(self, relative: str, **options: Any) -> pa.Table:
        """One committed object, as a manifest named it (objects never change once written)."""
        return pq.read_table(self._abs(relative), filesystem=self.fs, **options)

    def committed(self, landing: str, key: PartitionKey) -> Manifest:
        """A landing's manifest, or an error saying to materialize it first."""
        manifest = self.manifest(landing, key)
        if manifest is None:
            raise FileNotFoundError(
                f"{landing} for {key.label} is not in the lake ({self.url}); materialize it first"
            )
        return manifest

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


def landing_complete(manifest: Manifest) -> bool:
    """Whether a raw landing holds its whole UTC day for good: its records begin at its
    window's start, and its horizon is past the day's end (plus, for a collected partition,
    the overlap a later poll would still re-read)."""
    meta = manifest.metadata
    if COVERED_FROM in meta or EXTRACTED_AT not in meta:
        return False
    horizon = datetime.fromisoformat(meta[EXTRACTED_AT])
    day_end = datetime(*(manifest.key.day + timedelta(days=1)).timetuple()[:3], tzinfo=UTC)
    return horizon >= day_end + timedelta(seconds=float(meta.get(COLLECT_OVERLAP, 0)))
