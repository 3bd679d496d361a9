"""Pinned package files from PyPI and Debian: downloaded with the registries' own clients, checked
against their sha256, and read member by member (wheels, sdists and ``.deb`` packages)."""
from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Package:
    """One file of a registry package, pinned by version, file name and sha256.

    ``registry`` is ``"pypi"`` (fetched with ``pip download --no-deps``, plus ``pip_options``) or
    ``"debian"`` (fetched with ``apt-get download``).
    """

    registry: str
    name: str
    version: str
    filename: str
    sha256: str
    pip_options: tuple[str, ...] = ()

    def download(self, cache: Path) -> Path:
        """The package file in ``cache``, downloaded first unless it is already there."""
        path = cache / self.filename
        if not path.is_file():
            cache.mkdir(parents=True, exist_ok=True)
            _run(self._command(cache), cwd=cache, what=f"{self.name} {self.version}")
        digest = sha256(path)
        if digest != self.sha256:
            raise ValueError(f"{path} has sha256 {digest}, expected {self.sha256} for {self.name} {self.version}")
        return path

    def _command(self, cache: Path) -> list[str]:
        if self.registry == "pypi":
            return [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(cache),
                    *self.pip_options, f"{self.name}=={self.version}"]
        if shutil.which("apt-get") is None:
            raise RuntimeError(f"{self.name} is a Debian package and apt-get is not available on this machine")
        return ["apt-get", "download", f"{self.name}={self.version}"]


def read_member(archive: Path, member: str) -> bytes:
    """The bytes of ``member`` inside a wheel (``.whl``), an sdist (``.tar.gz``) or a ``.deb``."""
    name = archive.name
    if name.endswith(".whl"):
        with zipfile.ZipFile(archive) as wheel:
            return wheel.read(member)
    if name.endswith(".tar.gz"):
        with tarfile.open(archive) as sdist:
            return _read_tar_member(sdist, member, archive)
    if name.endswith(".deb"):
        contents = _run(["dpkg-deb", "--fsys-tarfile", str(archive)], what=name)
        with tarfile.open(fileobj=io.BytesIO(contents)) as files:
            return _read_tar_member(files, member, archive)
    raise ValueError(f"{archive}: unknown archive type (expected .whl, .tar.gz or .deb)")


def sha256(path: Path) -> str:
    """Hex sha256 of the file ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_tar_member(archive: tarfile.TarFile, member: str, path: Path) -> bytes:
    try:
        file = archive.extractfile(member)
    except KeyError:
        file = None
    if file is None:
        raise KeyError(f"{path} has no file {member}")
    return file.read()


def _run(command: list[str], what: str, cwd: Path | None = None) -> bytes:
    result = subprocess.run(command, cwd=cwd, capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"fetching {what} failed: {' '.join(command)}\n{result.stderr.decode(errors='replace')}")
    return result.stdout
