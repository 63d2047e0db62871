"""The lake on a real S3 server (moto): commit, read, list, replace, concurrent writers, crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from agentstate_etl import lake
from agentstate_etl.errors import ConfigError, LakeConflictError
from tests.deploy.servers import S3Server

pytestmark = pytest.mark.deploy

KEY = lake.PartitionKey("cxone", "bu 7/north", date(2026, 3, 6))  # a tenant that needs quoting
ROOT = Path(__file__).resolve().parents[2]


SCHEMA = pa.schema([("agent_id", pa.string()), ("n", pa.int64())])


def table(rows: int, tag: str = "a") -> pa.Table:
    return pa.table(
        {"agent_id": [f"{tag}{i}" for i in range(rows)], "n": list(range(rows))}, schema=SCHEMA
    )


@pytest.fixture
def s3_lake(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> lake.Lake:
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    bucket = s3.create_bucket(f"lake-{uuid.uuid4().hex[:12]}")
    return lake.Lake.from_url(f"s3://{bucket}/prod/agentstate")


def bucket_keys(s3: S3Server, landed: lake.Lake) -> list[str]:
    bucket = landed.root.split("/", 1)[0]
    return s3.keys(bucket)


def test_commit_read_list_against_s3(s3: S3Server, s3_lake: lake.Lake) -> None:
    other = lake.PartitionKey("koreai", "acct-1", date(2026, 3, 7))
    s3_lake.commit(lake.RAW, KEY, {lake.RAW: table(3), lake.QUARANTINE: table(1, "q")}, {"m": "1"})
    s3_lake.commit(lake.RAW, other, {lake.RAW: table(2), lake.QUARANTINE: table(0)})
    s3_lake.commit(lake.INTERVALS, KEY, {lake.INTERVALS: table(5)})

    assert s3_lake.partitions(lake.RAW) == [KEY, other]
    assert s3_lake.partitions(lake.RAW, "cxone", "bu 7/north") == [KEY]
    assert s3_lake.partitions(lake.INTERVALS) == [KEY]
    assert s3_lake.read(lake.RAW, KEY).equals(table(3))
    assert s3_lake.read(lake.QUARANTINE, KEY).num_rows == 1
    assert s3_lake.metadata(lake.RAW, KEY) == {"m": "1"}
    assert s3_lake.manifest(lake.RAW, KEY).rows == {lake.RAW: 3, lake.QUARANTINE: 1}  # type: ignore[union-attr]
    assert not s3_lake.has(lake.INTERVALS, other)
    objects = s3_lake.objects(lake.RAW, [KEY, other])
    assert s3_lake.dataset(objects, SCHEMA).to_table().num_rows == 5
    assert s3_lake.location(objects[0]).startswith("s3://")
    keys = bucket_keys(s3, s3_lake)
    assert not [k for k in keys if k.endswith("/")], "no directory-marker objects on S3"
    assert len(keys) == 3 + 2 + 3  # five data objects, three manifests


def test_replacing_a_landing_reads_only_the_new_objects(
    s3: S3Server, s3_lake: lake.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3_lake.commit(lake.INTERVALS, KEY, {lake.INTERVALS: table(4, "old")})
    first = s3_lake.object(lake.INTERVALS, KEY)
    s3_lake.commit(lake.INTERVALS, KEY, {lake.INTERVALS: table(2, "new")})
    assert s3_lake.read(lake.INTERVALS, KEY).column("agent_id").to_pylist() == ["new0", "new1"]
    data = [k for k in bucket_keys(s3, s3_lake) if "/agentstate/intervals/" in k]
    assert len(data) == 2 and any(k.endswith(first) for k in data)  # within the grace period

    monkeypatch.setattr(lake, "ORPHAN_GRACE_S", -60.0)  # every unnamed object is past it now
    s3_lake.commit(lake.INTERVALS, KEY, {lake.INTERVALS: table(1, "last")})
    data = [k for k in bucket_keys(s3, s3_lake) if "/agentstate/intervals/" in k]
    assert data == [f"{s3_lake.root.split('/', 1)[1]}/{s3_lake.object(lake.INTERVALS, KEY)}"]


def test_moto_answers_conditional_puts_with_412(s3: S3Server) -> None:
    """The pinned moto must behave like S3 here, or the conflict tests prove nothing."""
    from botocore.exceptions import ClientError

    client = s3.client()
    bucket = s3.create_bucket(f"cond-{uuid.uuid4().hex[:12]}")
    etag = client.put_object(Bucket=bucket, Key="m.json", Body=b"1", IfNoneMatch="*")["ETag"]
    for condition in ({"IfNoneMatch": "*"}, {"IfMatch": '"not-the-etag"'}):
        with pytest.raises(ClientError) as caught:
            client.put_object(Bucket=bucket, Key="m.json", Body=b"2", **condition)
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    client.put_object(Bucket=bucket, Key="m.json", Body=b"3", IfMatch=etag)


def test_a_commit_racing_another_run_keeps_the_as_fresh_winner(
    s3: S3Server, s3_lake: lake.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = s3_lake.commit(lake.RAW, KEY, {lake.RAW: table(1, "before"), lake.QUARANTINE: table(0)})
    rival = lake.Lake.from_url(s3_lake.url)  # another run, in another process in real life
    write_table = lake.pq.write_table
    raced = []

    def write_then_race(*args: object, **kwargs: object) -> None:
        write_table(*args, **kwargs)  # type: ignore[arg-type]
        if not raced:  # the rival commits while this run is between its objects and manifest
            raced.append(True)
            rival.commit(lake.RAW, KEY, {lake.RAW: table(2, "rival"), lake.QUARANTINE: table(0)})

    monkeypatch.setattr(lake.pq, "write_table", write_then_race)
    kept = s3_lake.commit(lake.RAW, KEY, {lake.RAW: table(3, "late"), lake.QUARANTINE: table(0)})
    monkeypatch.undo()

    assert kept.concurrent
    assert s3_lake.read(lake.RAW, KEY).column("agent_id").to_pylist() == ["rival0", "rival1"]
    named = set(s3_lake.manifest(lake.RAW, KEY).objects.values())  # type: ignore[union-attr]
    data = {k.split("/", 2)[2] for k in bucket_keys(s3, s3_lake) if "/_manifests/" not in k}
    # the rival's objects and the replaced landing's (within the grace period); the loser's
    # own objects were removed
    assert data == named | set(first.objects.values())


@pytest.mark.parametrize("merging", [True, False])
def test_a_first_commit_racing_another_fails_if_merged_else_the_fresher_wins(
    s3_lake: lake.Lake, monkeypatch: pytest.MonkeyPatch, merging: bool
) -> None:
    rival = lake.Lake.from_url(s3_lake.url)
    write_table = lake.pq.write_table
    raced = []

    def write_then_race(*args: object, **kwargs: object) -> None:
        write_table(*args, **kwargs)  # type: ignore[arg-type]
        if not raced:
            raced.append(True)
            rival.commit(lake.INTERVALS, KEY, {lake.INTERVALS: table(2, "rival")})

    monkeypatch.setattr(lake.pq, "write_table", write_then_race)
    if merging:  # it read no landing and merged with nothing: it commits only over nothing
        with pytest.raises(LakeConflictError):
            s3_lake.commit(lake.INTERVALS, KEY, {lake.INTERVALS: table(3, "late")}, replaces=None)
    else:  # computed on its own and fresher: committed over the rival's (If-Match its ETag)
        s3_lake.commit(
            lake.INTERVALS, KEY, {lake.INTERVALS: table(3, "late")}, supersedes=lambda _: True
        )
    monkeypatch.undo()
    assert s3_lake.read(lake.INTERVALS, KEY).num_rows == (2 if merging else 3)


CRASHING_WRITER = """
import sys
from datetime import date
import pyarrow as pa
import tests.deploy.pause_before_manifest  # stops before the manifest; the test kills us there
from agentstate_etl import lake
landed = lake.Lake.from_url(sys.argv[1])
key = lake.PartitionKey("cxone", "bu 7/north", date(2026, 3, 6))
rows = pa.table({"agent_id": ["crash0", "crash1"], "n": [0, 1]})
landed.commit(lake.RAW, key, {lake.RAW: rows, lake.QUARANTINE: rows.slice(0, 0)})
"""


@pytest.mark.parametrize("replacing", [False, True], ids=["new-partition", "replacing"])
def test_kill_9_between_objects_and_manifest_leaves_nothing_a_reader_takes_for_data(
    s3: S3Server,
    s3_lake: lake.Lake,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    replacing: bool,
) -> None:
    if replacing:
        s3_lake.commit(lake.RAW, KEY, {lake.RAW: table(1, "kept"), lake.QUARANTINE: table(0)})
    before = s3_lake.manifest(lake.RAW, KEY)
    marker = tmp_path / "paused.pid"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AGENTSTATE_TEST_PAUSE_MANIFEST": f"/_manifests/{lake.RAW}/",
        "AGENTSTATE_TEST_PAUSE_MARKER": str(marker),
    }
    writer = subprocess.Popen(
        [sys.executable, "-c", CRASHING_WRITER, s3_lake.url], env=env, cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and marker.read_text()):
            assert writer.poll() is None, "the writer ended before reaching its manifest"
            assert time.monotonic() < deadline, "the writer never reached its manifest"
            time.sleep(0.05)
        assert int(marker.read_text()) == writer.pid
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()
    assert writer.returncode == -signal.SIGKILL

    # the crashed writer's objects are in the bucket ...
    named = set(before.objects.values()) if before else set()
    data = {k.split("/", 2)[2] for k in bucket_keys(s3, s3_lake) if "/_manifests/" not in k}
    orphans = data - named
    assert len(orphans) == 2
    # ... and no reader takes them for data
    assert s3_lake.manifest(lake.RAW, KEY) == before
    assert s3_lake.partitions(lake.RAW) == ([KEY] if replacing else [])
    if replacing:
        assert s3_lake.read(lake.RAW, KEY).column("agent_id").to_pylist() == ["kept0"]
    else:
        with pytest.raises(FileNotFoundError):
            s3_lake.read(lake.RAW, KEY)
    assert not set(s3_lake.objects(lake.RAW, [KEY])) & orphans

    # the next commit of the partition removes them once past the grace period
    monkeypatch.setattr(lake, "ORPHAN_GRACE_S", -60.0)
    s3_lake.commit(lake.RAW, KEY, {lake.RAW: table(2, "rerun"), lake.QUARANTINE: table(0)})
    data = {k.split("/", 2)[2] for k in bucket_keys(s3, s3_lake) if "/_manifests/" not in k}
    assert data == set(s3_lake.manifest(lake.RAW, KEY).objects.values())  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("endpoint", "problem"),
    [("127.0.0.1:9000", "http(s) URL"), ("http://s3.local:9000/bucket", "without a path")],
)
def test_an_endpoint_without_scheme_or_with_a_path_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, endpoint: str, problem: str
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    with pytest.raises(ConfigError, match="AWS_ENDPOINT_URL") as caught:
        lake.Lake.from_url("s3://bucket/prefix")
    assert problem in str(caught.value)


def test_endpoint_and_region_come_from_the_standard_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://generic:1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://s3.example.com/")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    assert lake.S3Endpoint.from_env() == lake.S3Endpoint("https://s3.example.com", "eu-west-3")
