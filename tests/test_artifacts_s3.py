"""The artifact store on S3: a real S3 API served on 127.0.0.1 by moto's standalone server
(a subprocess the tests start), reached through s3fs as a user's would be."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelreg import Registry
from test_artifacts import artifact

pytest.importorskip("s3fs")
pytest.importorskip("moto.server")

NAME = "churn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """moto's S3 server in a process of its own, on a free port of 127.0.0.1."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2).close()  # noqa: S310
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("moto's server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


def s3_env(server: MotoServer) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": server.url,
    }


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def s3(moto: MotoServer, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    """A fresh bucket on the module's server; the AWS variables point at it."""
    import s3fs

    for key, value in s3_env(moto).items():
        monkeypatch.setenv(key, value)
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    bucket = f"b{abs(hash(request.node.name)) % 10**12}"
    fs.mkdir(bucket)
    return fs, bucket


def registry_on(tmp_path: Path, store: str) -> Registry:
    root = tmp_path / "registry"
    Registry.init(root)
    config = root / "registry.yaml"
    config.write_text(config.read_text() + f"artifact_store: {store}\n")
    return Registry(root)


def cli(*args: str) -> Any:
    """The command line in this process (the S3 libraries are imported once)."""
    from typer.testing import CliRunner

    from modelreg.cli import app

    return CliRunner().invoke(app, list(args))


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    from conftest import modelreg_executable

    return subprocess.run(
        [modelreg_executable(), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_register_uploads_to_s3_and_a_clone_pulls_verified_bytes(s3: Any, tmp_path: Path) -> None:
    import shutil

    fs, bucket = s3
    registry = registry_on(tmp_path, f"s3://{bucket}/models")
    data = os.urandom(9 * 1024 * 1024)  # more than one part of a multipart upload
    path = artifact(tmp_path, "model.pkl", data)
    folder = tmp_path / "out" / "tokenizer"
    folder.mkdir()
    (folder / "vocab.txt").write_text("a b c")
    mv = registry.register(NAME, str(path), create_model=True).version
    assert (
        mv.artifact_uri
        == f"s3://{bucket}/models/blobs/{mv.artifact_sha256[:2]}/{mv.artifact_sha256}"
    )
    tree = registry.register("tok", str(folder), create_model=True).version
    assert fs.cat(f"{bucket}/models/blobs/{mv.artifact_sha256[:2]}/{mv.artifact_sha256}") == data
    assert not fs.exists(f"{bucket}/models/tmp")
    # A clone without out/: pull gets the bytes from S3.
    clone = tmp_path / "clone"
    shutil.copytree(registry.root, clone / "registry")
    result = run(
        "--registry", str(clone / "registry"), "pull", f"{NAME}@latest".replace("@latest", "")
    )
    assert result.returncode == 0, result.stderr
    pulled = Path(result.stdout.strip())
    assert pulled.read_bytes() == data
    assert pulled.name == "model.pkl"
    got = Registry(clone / "registry").download_artifacts(f"models:/tok/{tree.version}")
    assert (Path(got) / "vocab.txt").read_text() == "a b c"


def test_a_tampered_s3_blob_is_exit_7_and_nothing_is_cached(s3: Any, tmp_path: Path) -> None:
    fs, bucket = s3
    registry = registry_on(tmp_path, f"s3://{bucket}")
    mv = registry.register(
        NAME, str(artifact(tmp_path, "m.pkl", b"good")), create_model=True
    ).version
    fs.pipe(f"{bucket}/blobs/{mv.artifact_sha256[:2]}/{mv.artifact_sha256}", b"evil")
    result = cli("--registry", str(registry.root), "pull", NAME)
    assert result.exit_code == 7
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert f"recorded sha256 {mv.artifact_sha256}" in result.stderr
    assert list(Path(os.environ["MODELREG_CACHE"]).rglob("*")) == []


def test_a_missing_bucket_is_one_line_and_registers_nothing(s3: Any, tmp_path: Path) -> None:
    registry = registry_on(tmp_path, "s3://no-such-bucket/prefix")
    result = cli(
        "--registry", str(registry.root), "register", NAME, str(artifact(tmp_path, "m", b"m"))
    )
    assert result.exit_code == 3
    assert result.stderr == (
        "error: the artifact store s3://no-such-bucket/prefix does not exist; create it or "
        "fix artifact_store in registry.yaml\n"
    )
    assert not (registry.root / "models" / NAME).exists()


def test_refused_credentials_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = MotoServer({"INITIAL_NO_AUTH_ACTION_COUNT": "0"})  # checks every request's keys
    try:
        for key, value in s3_env(server).items():
            monkeypatch.setenv(key, value)
        registry = registry_on(tmp_path, "s3://bucket")
        path = artifact(tmp_path, "m", b"m")
        result = cli("--registry", str(registry.root), "register", NAME, str(path))
    finally:
        server.stop()
    assert result.exit_code == 9
    assert result.stderr.startswith(
        "error: could not reach the artifact store s3://bucket: access denied"
    )
    assert result.stderr.count("\n") == 1
    assert not (registry.root / "models" / NAME).exists()


def test_the_server_dying_mid_download_leaves_nothing_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = MotoServer()
    try:
        env = s3_env(server)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        import s3fs

        credentials = {"key": env["AWS_ACCESS_KEY_ID"], "secret": env["AWS_SECRET_ACCESS_KEY"]}
        fs = s3fs.S3FileSystem(skip_instance_cache=True, endpoint_url=server.url, **credentials)
        fs.mkdir("bucket")
        registry = registry_on(tmp_path, "s3://bucket")
        data = os.urandom(16 * 1024 * 1024)  # two blocks: the kill falls between them
        path = artifact(tmp_path, "big.bin", data)
        registry.register(NAME, str(path), create_model=True)
        cache = tmp_path / "cache"
        pull = subprocess.Popen(
            [sys.executable, "-m", "modelreg", "--registry", str(registry.root), "pull", NAME],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # One attempt per request: the dead server is reported without retries.
            env={**os.environ, "AWS_MAX_ATTEMPTS": "1", "MODELREG_CACHE": str(cache)},
        )
        # Kill the server once the first bytes have arrived in the cache's temporary folder.
        deadline = time.monotonic() + 60
        while not any(p.is_file() and p.stat().st_size > 0 for p in cache.rglob("*")):
            assert pull.poll() is None, pull.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        server.process.send_signal(signal.SIGKILL)
        out, err = pull.communicate(timeout=120)
    finally:
        server.stop()
    assert pull.returncode != 0
    assert out == ""
    assert err.startswith("error: could not download from the artifact store s3://bucket: ")
    assert err.count("\n") == 1
    assert list(cache.rglob("*")) == []
