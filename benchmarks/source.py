"""Source archive benchmark: digest throughput, cache benefit and memory while zipping + uploading.

Run: .venv/bin/python benchmarks/source.py [--files 10000] [--big-mb 1024] [--no-upload]

1. A generated tree of --files files (temp dir): cold digest throughput vs `sha256sum` over the
   same selected bytes (target >= 0.7x), and the warm digest time (folder listings and file
   hashes both cached; best of 5) vs cold (best of 3; target <= 10%).
2. A generated tree of --big-mb MB: peak RSS of a child process that builds the archive, and of
   one that builds it and streams it to the local gateway's real `POST /api/v1/upload/upload-only`
   (target <= 150 MB). Both read the child's max RSS from the kernel (wait4 / RUSAGE_CHILDREN).

Both runs read from the page cache (the trees were just written); compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opendeploy_plan.source import (
    build_archive,
    digest_source,
    select_files,
)
from opendeploy_plan.source._cache import CACHE_FOLDER, RACY_WINDOW_NS
from opendeploy_plan.source._digest import CACHE_FILE


def _text_pool(size: int) -> bytes:
    """Real source text: the standard library's own .py files (same on every machine with the
    same Python), repeated up to `size` bytes."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    parts: list[bytes] = []
    total = 0
    for path in sorted(stdlib.rglob("*.py")):
        if total >= size:
            break
        data = path.read_bytes()
        parts.append(data)
        total += len(data)
    pool = b"".join(parts)
    return (pool * (size // max(1, len(pool)) + 1))[:size]


def generate_tree(root: Path, files: int, seed: int = 7) -> int:
    """A source-like tree: ~`files` files in nested folders, log-normal sizes (median ~4 KB,
    a tail of large assets up to 4 MB), mostly text; returns the bytes written."""
    rng = random.Random(seed)
    pool = _text_pool(8 << 20)
    noise = os.urandom(8 << 20)
    total = 0
    folders = [root / f"pkg{a}/mod{b}" for a in range(20) for b in range(25)]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    (root / ".gitignore").write_text("*.log\ncoverage/\n")
    for index in range(files):
        size = min(int(rng.lognormvariate(8.3, 1.6)), 4 << 20)
        source = noise if rng.random() < 0.1 else pool
        start = rng.randrange(0, len(source) - size)
        path = folders[index % len(folders)] / f"file{index}.{rng.choice(['py', 'js', 'ts', 'md'])}"
        path.write_bytes(source[start : start + size])
        total += size
    return total


def generate_big_tree(root: Path, megabytes: int) -> int:
    """`megabytes` MB in 1-8 MB files, half text, half incompressible."""
    rng = random.Random(11)
    pool = _text_pool(8 << 20)
    noise = os.urandom(8 << 20)
    total = 0
    target = megabytes << 20
    index = 0
    while total < target:
        size = min(rng.randint(1 << 20, 8 << 20), target - total)
        source = noise if index % 2 else pool
        folder = root / f"assets{index % 16}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"blob{index}.bin").write_bytes(source[:size])
        total += size
        index += 1
    return total


def _timed(func: object) -> float:
    start = time.perf_counter()
    func()  # type: ignore[operator]
    return time.perf_counter() - start


def sha256sum_seconds(paths: list[str]) -> float:
    """Best of three runs of coreutils `sha256sum` over the files (2000 per invocation)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for offset in range(0, len(paths), 2000):
            subprocess.run(
                ["sha256sum", "--", *paths[offset : offset + 2000]],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        best = min(best, time.perf_counter() - start)
    return best


def _child(argv: list[str]) -> tuple[float, int]:
    """Run `argv` as a child process; return (seconds, max RSS in KiB) for that child alone."""
    start = time.perf_counter()
    process = subprocess.Popen(argv)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"child failed: {' '.join(argv)}")
    return time.perf_counter() - start, usage.ru_maxrss


def child_main(args: argparse.Namespace) -> None:
    """In the child: build the archive and optionally stream it to the gateway."""
    if args.child_mode == "baseline":
        import httpx  # the upload child's imports, for comparison

        return
    info = build_archive(args.root, args.out)
    if args.child_mode == "zip":
        return
    import httpx

    with info.multipart_file() as part:
        response = httpx.post(
            f"{args.gateway}/v1/upload/upload-only",
            headers={"Authorization": f"Bearer {args.token}"},
            data={"project_name": "bench", "region_id": args.region},
            files={"project_file": part},
            timeout=900,
        )
    response.raise_for_status()
    if not response.json().get("temp_file_path"):
        raise SystemExit("upload-only answered without temp_file_path")


def _row(name: str, value: str, target: str, ok: bool | None) -> None:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    print(f"| {name:<46} | {value:>24} | {target:>12} | {verdict:<6} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--big-mb", type=int, default=1024)
    parser.add_argument("--no-upload", action="store_true", help="zip-only memory measurement")
    parser.add_argument(
        "--child-mode", choices=["baseline", "zip", "upload"], help=argparse.SUPPRESS
    )
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--gateway", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--region", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_mode:
        child_main(args)
        return

    with tempfile.TemporaryDirectory(prefix="odplan-bench-source-") as temp:
        base = Path(temp)
        tree = base / "tree"
        written = generate_tree(tree, args.files)
        generated_at = time.time_ns()
        selection = select_files(tree)
        paths = [f.source for f in selection.files]
        nbytes = selection.total_size
        # Files younger than the racy window are never cached: let the fresh tree settle.
        time.sleep(max(0.0, (generated_at + RACY_WINDOW_NS - time.time_ns()) / 1e9) + 0.1)
        shasum = sha256sum_seconds(paths)
        cold_times = []
        for _ in range(3):
            shutil.rmtree(tree / CACHE_FOLDER, ignore_errors=True)
            cold_times.append(_timed(lambda: digest_source(tree)))
        cold = min(cold_times)
        threaded = []
        for _ in range(3):
            shutil.rmtree(tree / CACHE_FOLDER, ignore_errors=True)
            threaded.append(_timed(lambda: digest_source(tree, workers=2)))
        cold_threads = min(threaded)
        shutil.rmtree(tree / CACHE_FOLDER, ignore_errors=True)
        digest_source(tree)  # fill the cache
        warm = min(_timed(lambda: digest_source(tree)) for _ in range(5))
        hits = digest_source(tree).cache_hits
        cache_size = (tree / CACHE_FOLDER / CACHE_FILE).stat().st_size
        mb = nbytes / 1e6

        print(
            f"\nsource digest: {len(paths)} files, {mb:.1f} MB selected "
            f"({written / 1e6:.1f} MB written), cpu count {os.cpu_count()}"
        )
        print(f"| {'measure':<46} | {'value':>24} | {'target':>12} | {'':<6} |")
        print(f"|{'-' * 48}|{'-' * 26}|{'-' * 14}|{'-' * 8}|")
        _row("sha256sum over the same files", f"{shasum:.3f} s  {mb / shasum:7.0f} MB/s", "", None)
        _row(
            "cold digest (walk+select+hash+mining scan)",
            f"{cold:.3f} s  {mb / cold:7.0f} MB/s",
            "",
            None,
        )
        _row(
            "cold digest with workers=2 (for comparison)",
            f"{cold_threads:.3f} s  {mb / cold_threads:7.0f} MB/s",
            "",
            None,
        )
        _row(
            "cold throughput / sha256sum", f"{shasum / cold:.2f}x", ">= 0.70x", shasum / cold >= 0.7
        )
        _row(f"warm digest ({hits} cache hits)", f"{warm:.3f} s", "", None)
        _row("warm / cold", f"{100 * warm / cold:.1f} %", "<= 10 %", warm / cold <= 0.10)
        _row("cache file size", f"{cache_size / 1e6:.2f} MB", "", None)
        shutil.rmtree(tree)

        if args.big_mb <= 0:
            return
        big = base / "big"
        big_bytes = generate_big_tree(big, args.big_mb)
        me = [sys.executable, os.path.abspath(__file__)]
        _, base_rss = _child([*me, "--child-mode", "baseline"])
        zip_s, zip_rss = _child(
            [*me, "--child-mode", "zip", "--root", str(big), "--out", str(base / "big.zip")]
        )
        zip_size = (base / "big.zip").stat().st_size
        (base / "big.zip").unlink()
        print(f"\narchive memory: {big_bytes / 1e6:.0f} MB tree, {zip_size / 1e6:.0f} MB ZIP")
        print(f"| {'measure':<46} | {'value':>24} | {'target':>12} | {'':<6} |")
        print(f"|{'-' * 48}|{'-' * 26}|{'-' * 14}|{'-' * 8}|")
        _row("child baseline (python + httpx import)", f"{base_rss / 1024:.0f} MB", "", None)
        _row(
            "zip: peak RSS (time)",
            f"{zip_rss / 1024:.0f} MB ({zip_s:.1f} s)",
            "<= 150 MB",
            zip_rss / 1024 <= 150,
        )
        if args.no_upload:
            _row("zip + upload", "skipped (--no-upload)", "", None)
        else:
            up_s, up_rss = _upload_child(me, big, base)
            _row(
                "zip + upload to local gateway: peak RSS (time)",
                f"{up_rss / 1024:.0f} MB ({up_s:.1f} s)",
                "<= 150 MB",
                up_rss / 1024 <= 150,
            )
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        _row("RUSAGE_CHILDREN max RSS (all children)", f"{children / 1024:.0f} MB", "", None)


def _upload_child(me: list[str], big: Path, base: Path) -> tuple[float, int]:
    import httpx

    from opendeploy_plan.emulator import EmulatorConfig, create_app
    from opendeploy_plan.emulator.server import serve_in_thread

    config = EmulatorConfig(data_dir=str(base / "gateway"), max_extracted_bytes=16 * 1024**3)
    app = create_app(config)
    token = app.state.emulator.mint_dashboard_token()
    with serve_in_thread(app) as root_url:
        gateway = f"{root_url}/api"
        regions = httpx.get(
            f"{gateway}/v1/regions/", headers={"Authorization": f"Bearer {token}"}
        ).json()
        region = next(r["id"] for r in regions if r["status"] == "active")
        return _child(
            [
                *me,
                "--child-mode",
                "upload",
                "--root",
                str(big),
                "--out",
                str(base / "upload.zip"),
                "--gateway",
                gateway,
                "--token",
                token,
                "--region",
                region,
            ]
        )


if __name__ == "__main__":
    main()
