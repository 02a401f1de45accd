#!/usr/bin/env python3
"""Fetch the pinned JS/CSS/font files that folium maps need, for offline use.

folium, its plugins and streamlit-folium load Leaflet, jQuery, Bootstrap,
Font-Awesome and friends from public CDNs; with no internet the map stays
blank.  This script gets pinned versions of exactly the needed files from the
npm registry (``npm pack <name>@<version>``), checks every tarball's sha512
against ``scripts/assets.lock.json`` and extracts only the listed files into
``static/vendor/<dest>/...``, which Streamlit serves at
``/app/static/vendor/...`` when ``[server] enableStaticServing = true``.
``minqing.maps.offline`` points folium at those paths.

The run is idempotent: a package whose files are all present and whose hashes
match the stamp written at extraction time is skipped without calling npm.

Usage::

    python scripts/fetch_assets.py             # fetch what is missing
    python scripts/fetch_assets.py --check     # verify only; exit 1 if stale
    python scripts/fetch_assets.py --tarballs DIR   # use DIR/*.tgz, no npm
    python scripts/fetch_assets.py --force     # re-fetch everything

``--tarballs DIR`` is for machines without registry access: copy the
``*.tgz`` files made by ``npm pack`` on another machine into DIR (or use
``--keep-tarballs DIR`` there).  Their integrity is checked just the same.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOCK = Path(__file__).resolve().parent / "assets.lock.json"
DEFAULT_STATIC = REPO_ROOT / "static"
STAMP_NAME = ".asset-stamp.json"


class AssetError(RuntimeError):
    """A pinned asset could not be fetched, verified or extracted."""


@dataclass(frozen=True)
class Package:
    """One pinned npm package and the files to take from it."""

    spec: str
    dest: str
    integrity: str
    files: tuple[str, ...]

    @property
    def tarball_name(self) -> str:
        """File name ``npm pack`` gives the tarball (``@a/b@1`` -> ``a-b-1.tgz``)."""
        name, _, version = self.spec.rpartition("@")
        return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def load_lock(path: Path) -> list[Package]:
    """Read the lock file and return its packages."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != 1:
        raise AssetError(f"{path}: unsupported lock format {data.get('format')!r}")
    packages = []
    for entry in data["packages"]:
        dest = entry["dest"]
        if not dest or "/" in dest or dest.startswith("."):
            raise AssetError(f"{path}: bad dest {dest!r}")
        packages.append(
            Package(entry["spec"], dest, entry["integrity"], tuple(entry["files"]))
        )
    return packages


def sri_sha512(path: Path) -> str:
    """Return the file's sha512 in npm's SRI form (``sha512-<base64>``)."""
    digest = hashlib.sha512()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode("ascii")


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_current(pkg: Package, vendor_dir: Path) -> bool:
    """True when ``vendor_dir/<dest>`` holds exactly what the lock asks for."""
    stamp_path = vendor_dir / pkg.dest / STAMP_NAME
    try:
        stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if (
        stamp.get("spec") != pkg.spec
        or stamp.get("integrity") != pkg.integrity
        or stamp.get("patterns") != list(pkg.files)
    ):
        return False
    files = stamp.get("files") or {}
    for rel, digest in files.items():
        target = vendor_dir / pkg.dest / rel
        if not target.is_file() or sha256_file(target) != digest:
            return False
    return bool(files)


def npm_pack(packages: list[Package], dest: Path) -> None:
    """Download the packages' tarballs into ``dest`` with one ``npm pack`` call."""
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError(
            "npm not found on PATH; install Node.js/npm, or pass --tarballs DIR "
            "with tarballs made by `npm pack` elsewhere"
        )
    cmd = [
        npm,
        "pack",
        *[p.spec for p in packages],
        "--json",
        "--ignore-scripts",
        "--pack-destination",
        str(dest),
    ]
    proc = subprocess.run(
        cmd, cwd=dest, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise AssetError(
            f"`{' '.join(cmd[1:])}` failed ({proc.returncode}):\n{proc.stderr.strip()}"
        )


def safe_relpath(member_name: str) -> PurePosixPath | None:
    """Strip the tarball's top folder (normally ``package/``); reject unsafe paths."""
    parts = PurePosixPath(member_name).parts
    if len(parts) < 2:
        return None
    rel = PurePosixPath(*parts[1:])
    if rel.is_absolute() or ".." in rel.parts:
        raise AssetError(f"unsafe path in tarball: {member_name!r}")
    return rel


def extract(pkg: Package, tarball: Path, vendor_dir: Path) -> dict[str, str]:
    """Extract the wanted files of ``tarball`` into ``vendor_dir/<dest>``.

    Files go to a staging folder first, which then replaces the old folder,
    so an interrupted run never leaves a half-written package behind.
    """
    staging = Path(tempfile.mkdtemp(prefix=f".{pkg.dest}-", dir=vendor_dir))
    written: dict[str, str] = {}
    matched = {pattern: False for pattern in pkg.files}
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for member in tar.getmembers():
                if not member.isfile():
                    continue
                rel = safe_relpath(member.name)
                if rel is None:
                    continue
                hits = [p for p in pkg.files if fnmatch.fnmatchcase(str(rel), p)]
                if not hits:
                    continue
                for pattern in hits:
                    matched[pattern] = True
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                target = staging / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                written[str(rel)] = hashlib.sha256(data).hexdigest()
        unmatched = [p for p, ok in matched.items() if not ok]
        if unmatched:
            raise AssetError(f"{pkg.spec}: no file in the tarball matches {unmatched}")
        stamp = {
            "spec": pkg.spec,
            "integrity": pkg.integrity,
            "patterns": list(pkg.files),
            "files": dict(sorted(written.items())),
        }
        (staging / STAMP_NAME).write_text(
            json.dumps(stamp, indent=2) + "\n", encoding="utf-8"
        )
        final = vendor_dir / pkg.dest
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


def fetch(
    packages: list[Package],
    static_dir: Path,
    *,
    tarball_dir: Path | None = None,
    keep_tarballs: Path | None = None,
    force: bool = False,
    log=print,
) -> list[Package]:
    """Make ``static_dir/vendor`` match the lock; return the packages (re)extracted."""
    vendor_dir = static_dir / "vendor"
    vendor_dir.mkdir(parents=True, exist_ok=True)
    todo = [p for p in packages if force or not is_current(p, vendor_dir)]
    for pkg in packages:
        if pkg not in todo:
            log(f"ok       {pkg.spec}")
    if not todo:
        return []
    with tempfile.TemporaryDirectory(prefix="minqing-assets-") as tmp:
        tmp_path = Path(tmp)
        if tarball_dir is not None:
            src_dir = tarball_dir
        else:
            log(f"npm pack {' '.join(p.spec for p in todo)}")
            npm_pack(todo, tmp_path)
            src_dir = tmp_path
        for pkg in todo:
            tarball = src_dir / pkg.tarball_name
            if not tarball.is_file():
                raise AssetError(f"{pkg.spec}: tarball {tarball} not found")
            actual = sri_sha512(tarball)
            if actual != pkg.integrity:
                raise AssetError(
                    f"{pkg.spec}: integrity mismatch\n  expected {pkg.integrity}\n"
                    f"  got      {actual}"
                )
            files = extract(pkg, tarball, vendor_dir)
            if keep_tarballs is not None:
                keep_tarballs.mkdir(parents=True, exist_ok=True)
                shutil.copy2(tarball, keep_tarballs / pkg.tarball_name)
            log(f"fetched  {pkg.spec} -> vendor/{pkg.dest} ({len(files)} files)")
    return todo


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lock", type=Path, default=DEFAULT_LOCK)
    parser.add_argument(
        "--static-dir",
        type=Path,
        default=DEFAULT_STATIC,
        help="Streamlit static folder (default: %(default)s)",
    )
    parser.add_argument(
        "--check", action="store_true", help="only verify; exit 1 if anything is stale"
    )
    parser.add_argument("--force", action="store_true", help="re-fetch everything")
    parser.add_argument(
        "--tarballs", type=Path, help="take tarballs from this folder instead of npm"
    )
    parser.add_argument(
        "--keep-tarballs", type=Path, help="copy the verified tarballs into this folder"
    )
    args = parser.parse_args(argv)

    try:
        packages = load_lock(args.lock)
        if args.check:
            stale = [p for p in packages if not is_current(p, args.static_dir / "vendor")]
            for pkg in stale:
                print(f"stale    {pkg.spec} (vendor/{pkg.dest})", file=sys.stderr)
            if stale:
                print("run: python scripts/fetch_assets.py", file=sys.stderr)
                return 1
            print(f"all {len(packages)} asset packages present and verified")
            return 0
        fetch(
            packages,
            args.static_dir,
            tarball_dir=args.tarballs,
            keep_tarballs=args.keep_tarballs,
            force=args.force,
        )
    except AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
