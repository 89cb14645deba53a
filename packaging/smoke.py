"""Smoke test of a built NOC Console bundle (``bash packaging/smoke.sh`` builds and runs it).

    python packaging/smoke.py --bundle dist/noc-console [--work DIR] [--build-seconds S]

Runs the built executable the way a desk and a wall PC would, offscreen, and
checks what a user would notice:

* ``--version`` prints the source tree's version;
* the bundle has every resource folder, the Qt plugins a desktop needs, and
  none of the Qt modules the console does not use (WebEngine, Qml/Quick, 3D);
* ``--demo --screenshot`` draws the board: a 1440 × 860 PNG with the SEV-1,
  SEV-2 and SEV-3 badges in the severity column, and within a few percent of
  the same picture rendered from the source tree;
* ``--wall --demo --screenshot`` draws the wall's four severity counters;
* without ``--demo`` the built-in server starts and the console syncs with it;
* an unwritable data folder ends in one line naming it and ``--data-dir``,
  exit code 2, no traceback;
* ``export`` reads the cache the demo left;
* ``install.sh --prefix`` installs a working command and a valid desktop entry.

Prints the figures as ``metric.name: VALUE UNIT``. Exit code 0 when all
pass, 1 (naming the check) when one fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "packaging"))
sys.path.insert(0, str(REPO / "packaging" / "pyinstaller"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import check_system  # noqa: E402
import contents  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402

from console import __version__  # noqa: E402
from console.domain.severity import Severity  # noqa: E402

BOARD_SIZE = (1440, 860)  # console/app/gui.py WINDOW_SIZE
WALL_SIZE = (1920, 1080)
SEVERITY_COLUMN = (0, 110, 145, 860)  # x0, y0, x1, y1 of the queue's severity badges
MIN_BADGE_PIXELS = 100  # a handful of rows of one severity paint several hundred
MIN_WALL_PIXELS = 500
MAX_DIFFERENT_FROM_SOURCE = 0.03  # clocks and countdowns tick between the two runs
RUN_TIMEOUT_S = 120


class SmokeFailure(Exception):
    """A check failed; the message says which and what was seen."""


def ok(text: str) -> None:
    print(f"ok   {text}", flush=True)


def figure(name: str, value: float, unit: str) -> None:
    print(f"packaging.{name}: {value:.2f} {unit}", flush=True)


class Runner:
    """Runs the built executable with private data and config folders."""

    def __init__(self, executable: Path, work: Path) -> None:
        self.executable = executable
        self.work = work
        self.env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        for name in ("NOC_CONSOLE_DATA_DIR", "NOC_CONSOLE_CONFIG_DIR"):
            self.env.pop(name, None)
        self.env["XDG_RUNTIME_DIR"] = str(self._folder("runtime", mode=0o700))
        self._count = 0

    def _folder(self, name: str, mode: int = 0o755) -> Path:
        folder = self.work / name
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(mode)
        return folder

    def fresh_dirs(self) -> list[str]:
        self._count += 1
        data = self._folder(f"data-{self._count}")
        config = self._folder(f"config-{self._count}")
        return ["--data-dir", str(data), "--config-dir", str(config)]

    def run(
        self, args: Sequence[str], *, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.executable), *args],
            capture_output=True,
            text=True,
            env=env or self.env,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )

    def timed_screenshot(self, command: Sequence[str], png: Path) -> tuple[float, float]:
        """Seconds from start to the PNG on disk (first painted board), and to exit."""
        png.unlink(missing_ok=True)
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, "--screenshot", str(png)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        painted = None
        while process.poll() is None:
            if painted is None and png.exists():
                painted = time.perf_counter() - started
            if time.perf_counter() - started > RUN_TIMEOUT_S:
                process.kill()
                raise SmokeFailure(f"{' '.join(command)} did not exit in {RUN_TIMEOUT_S} s")
            time.sleep(0.005)
        exited = time.perf_counter() - started
        _, err = process.communicate()
        if process.returncode != 0 or not png.is_file():
            raise SmokeFailure(
                f"{' '.join(command)} --screenshot exited {process.returncode}: {err.strip()}"
            )
        return (painted if painted is not None else exited), exited


def image(path: Path, size: tuple[int, int]) -> QImage:
    picture = QImage(str(path))
    if picture.isNull():
        raise SmokeFailure(f"{path} is not a PNG Qt can read")
    if (picture.width(), picture.height()) != size:
        raise SmokeFailure(
            f"{path.name} is {picture.width()} × {picture.height()}, expected {size[0]} × {size[1]}"
        )
    return picture.convertToFormat(QImage.Format.Format_RGB32)


def pixels(picture: QImage) -> memoryview:
    return memoryview(bytes(picture.constBits())).cast("I")


def colour_counts(
    picture: QImage, region: tuple[int, int, int, int] | None = None
) -> dict[Severity, int]:
    """How many pixels have each severity's exact colour (within ``region``)."""
    wanted = {0xFF000000 | int(s.style.colour[1:], 16): s for s in Severity}
    x0, y0, x1, y1 = region or (0, 0, picture.width(), picture.height())
    width = picture.bytesPerLine() // 4
    data = pixels(picture)
    counts = dict.fromkeys(Severity, 0)
    for y in range(y0, min(y1, picture.height())):
        for value in data[y * width + x0 : y * width + x1]:
            severity = wanted.get(value)
            if severity is not None:
                counts[severity] += 1
    return counts


def different_fraction(a: QImage, b: QImage) -> float:
    pa, pb = pixels(a), pixels(b)
    return sum(1 for x, y in zip(pa, pb, strict=True) if x != y) / len(pa)


# ------------------------------------------------------------------ checks


def check_version(runner: Runner) -> None:
    result = runner.run(["--version"])
    expected = f"noc-console {__version__}"
    if result.returncode != 0 or result.stdout.strip() != expected:
        raise SmokeFailure(
            f"--version printed {result.stdout.strip()!r} (exit {result.returncode}), "
            f"expected {expected!r}"
        )
    ok(f"--version: {expected}")


def check_listing(bundle: Path) -> None:
    internal = bundle / "_internal"
    files = [p.relative_to(bundle).as_posix() for p in bundle.rglob("*")]
    forbidden = sorted(f for f in files if any(part in f for part in contents.FORBIDDEN_IN_BUNDLE))
    if forbidden:
        raise SmokeFailure(f"unused Qt modules in the bundle: {', '.join(forbidden[:10])}")
    qt = internal / "PySide6" / "Qt"
    dropped = sorted(
        p.relative_to(qt).as_posix()
        for p in qt.rglob("*")
        if p.is_file() and contents.qt_file_dropped(p.relative_to(qt).as_posix())
    )
    if dropped:
        raise SmokeFailure(f"files the spec leaves out are in the bundle: {', '.join(dropped)}")
    plugin_dirs = {p.name for p in (qt / "plugins").iterdir() if p.is_dir()}
    if plugin_dirs != set(check_system.QT_PLUGIN_DIRS):
        raise SmokeFailure(
            f"Qt plugin folders differ from check_system.QT_PLUGIN_DIRS: "
            f"extra {sorted(plugin_dirs - set(check_system.QT_PLUGIN_DIRS))}, "
            f"missing {sorted(set(check_system.QT_PLUGIN_DIRS) - plugin_dirs)}"
        )
    for name in contents.RESOURCE_DIRS:
        source = REPO / "resources" / name
        shipped = internal / "resources" / name
        want = {
            p.relative_to(source).as_posix()
            for p in source.rglob("*")
            if p.is_file()
            and "__pycache__" not in p.parts
            and p.suffix not in contents.RESOURCE_SKIP_SUFFIXES
        }
        have = (
            {p.relative_to(shipped).as_posix() for p in shipped.rglob("*") if p.is_file()}
            if shipped.is_dir()
            else set()
        )
        if want != have:
            raise SmokeFailure(
                f"resources/{name} in the bundle: missing {sorted(want - have)}, "
                f"extra {sorted(have - want)}"
            )
    for path in (
        f"share/applications/{contents.APP_ID}.desktop",
        f"share/metainfo/{contents.APP_ID}.metainfo.xml",
        f"share/icons/hicolor/scalable/apps/{contents.APP_ID}.svg",
        f"share/icons/hicolor/256x256/apps/{contents.APP_ID}.png",
        "install.sh",
    ):
        if not (bundle / path).is_file():
            raise SmokeFailure(f"{path} is missing from the bundle")
    ok(
        f"listing: {len(files)} entries, resources {', '.join(contents.RESOURCE_DIRS)}, "
        f"Qt plugins {', '.join(sorted(plugin_dirs))}; no WebEngine, Qml/Quick or 3D"
    )


def check_board(runner: Runner, work: Path) -> None:
    command = [str(runner.executable), "--demo", *runner.fresh_dirs()]
    png = work / "board.png"
    first_paint, first_exit = runner.timed_screenshot(command, png)
    warm = []
    for _ in range(3):
        command = [str(runner.executable), "--demo", *runner.fresh_dirs()]
        warm.append(runner.timed_screenshot(command, work / "board-again.png")[0])
    board = image(png, BOARD_SIZE)
    counts = colour_counts(board, SEVERITY_COLUMN)
    short = [
        f"{s.code} ({counts[s]} px)"
        for s in (Severity.SEV1, Severity.SEV2, Severity.SEV3)
        if counts[s] < MIN_BADGE_PIXELS
    ]
    if short:
        raise SmokeFailure(f"the board in {png} lacks the badges of {', '.join(short)}")

    # The same picture from the source tree: the bundle must look the same.
    source_png = work / "board-source.png"
    source_dirs = runner.fresh_dirs()
    source_command = [sys.executable, "-m", "console", "--demo", *source_dirs]
    source_paint, _ = runner.timed_screenshot(source_command, source_png)
    fraction = different_fraction(board, image(source_png, BOARD_SIZE))
    if fraction > MAX_DIFFERENT_FROM_SOURCE:
        raise SmokeFailure(
            f"the bundle's board differs from the source tree's in {fraction:.1%} of pixels "
            f"({png} vs {source_png})"
        )
    ok(
        f"--demo --screenshot: {BOARD_SIZE[0]} × {BOARD_SIZE[1]}, severity badges "
        + ", ".join(f"{s.code} {counts[s]} px" for s in Severity)
        + f"; {fraction:.2%} of pixels differ from the source tree's picture"
    )
    figure("first_board_s", first_paint, "s")
    figure("first_run_exit_s", first_exit, "s")
    figure("board_warm_p50_s", statistics.median(warm), "s")
    figure("source_board_s", source_paint, "s")


def check_wall(runner: Runner, work: Path) -> None:
    png = work / "wall.png"
    command = [str(runner.executable), "--wall", "--demo", *runner.fresh_dirs()]
    runner.timed_screenshot(command, png)
    counts = colour_counts(image(png, WALL_SIZE))
    short = [f"{s.code} ({counts[s]} px)" for s in Severity if counts[s] < MIN_WALL_PIXELS]
    if short:
        raise SmokeFailure(f"the wall in {png} lacks the counters of {', '.join(short)}")
    ok("--wall --demo --screenshot: 1920 × 1080 with all four severity counters")


def check_embedded_server(runner: Runner, work: Path) -> None:
    png = work / "embedded.png"
    dirs = runner.fresh_dirs()
    command = [str(runner.executable), *dirs]
    _, seconds = runner.timed_screenshot(command, png)
    image(png, BOARD_SIZE)
    database = Path(dirs[1]) / "server.db"
    if not database.is_file():
        raise SmokeFailure(f"the built-in server left no database in {database.parent}")
    ok(f"built-in server: started, synced and drew the queue in {seconds:.1f} s")


def check_unwritable_data_dir(runner: Runner, work: Path) -> None:
    blocker = work / "not-a-folder"
    blocker.write_text("a file where a folder should be\n", encoding="utf-8")
    cases = [
        (["--data-dir", str(blocker / "data")], None, blocker / "data"),
        # No --data-dir: the user data folder (XDG_DATA_HOME/noc-console) is unusable.
        ([], dict(runner.env, XDG_DATA_HOME=str(blocker)), blocker / "noc-console"),
    ]
    for extra, env, folder in cases:
        config = work / "config-unwritable"
        result = runner.run(
            [
                "--demo",
                "--screenshot",
                str(work / "never.png"),
                "--config-dir",
                str(config),
                *extra,
            ],
            env=env,
        )
        message = result.stderr.strip()
        if result.returncode != 2 or "Traceback" in result.stderr:
            raise SmokeFailure(
                f"an unwritable data folder gave exit {result.returncode} and: {message}"
            )
        if str(folder) not in message or "--data-dir" not in message:
            raise SmokeFailure(f"the message does not name {folder} and --data-dir: {message}")
    ok(f"unwritable data folder: exit 2, {message!r}")


def check_export(runner: Runner) -> None:
    dirs = runner.fresh_dirs()
    shot = runner.run(["--demo", "--screenshot", str(runner.work / "export.png"), *dirs])
    if shot.returncode != 0:
        raise SmokeFailure(f"--demo for export exited {shot.returncode}: {shot.stderr.strip()}")
    # The demo keeps to its own folder: export reads it with --demo.
    result = runner.run(["export", "incidents", "--format", "csv", "--demo", *dirs])
    rows = result.stdout.strip().splitlines()
    if result.returncode != 0 or len(rows) < 100:
        raise SmokeFailure(
            f"export gave exit {result.returncode}, {len(rows)} lines: {result.stderr.strip()}"
        )
    ok(f"export incidents: {len(rows) - 1} incidents as CSV")


def check_install(bundle: Path, work: Path) -> None:
    prefix = work / "prefix"
    installer = bundle / "install.sh"
    result = subprocess.run(
        ["bash", str(installer), "--prefix", str(prefix)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        raise SmokeFailure(f"install.sh failed: {result.stderr.strip()}")
    command = prefix / "bin" / "noc-console"
    version = subprocess.run(
        [str(command), "--version"], capture_output=True, text=True, check=False
    )
    if version.stdout.strip() != f"noc-console {__version__}":
        raise SmokeFailure(f"the installed {command} printed {version.stdout!r}")
    entry = prefix / "share" / "applications" / f"{contents.APP_ID}.desktop"
    text = entry.read_text(encoding="utf-8")
    if f"Exec={command} --wall" not in text:
        raise SmokeFailure(f"{entry} has no wall action starting {command}")
    validator = shutil.which("desktop-file-validate")
    if validator:
        checked = subprocess.run([validator, str(entry)], capture_output=True, text=True)
        if checked.returncode != 0 or checked.stdout.strip():
            raise SmokeFailure(f"the installed desktop entry: {checked.stdout.strip()}")
    removed = subprocess.run(
        ["bash", str(installer), "--prefix", str(prefix), "--uninstall"],
        capture_output=True,
        text=True,
        check=False,
    )
    if removed.returncode != 0 or command.exists() or entry.exists():
        raise SmokeFailure(f"install.sh --uninstall left files behind: {removed.stderr.strip()}")
    ok("install.sh --prefix: command, menu entry with the wall action, icons; --uninstall")


def bundle_size(bundle: Path) -> tuple[float, int]:
    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files) / 1024 / 1024, len(files)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, required=True, help="the built dist/noc-console")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--build-seconds", type=float, help="the build's time, to report")
    args = parser.parse_args(argv)
    executable = args.bundle / contents.APP_NAME
    if not executable.is_file():
        print(f"smoke: no executable at {executable}; build first (packaging/build.sh)")
        return 1
    with tempfile.TemporaryDirectory(prefix="noc-console-smoke-") as scratch:
        work = Path(args.work or scratch) / "smoke"
        work.mkdir(parents=True, exist_ok=True)
        runner = Runner(executable, work)
        try:
            check_board(runner, work)  # first: its first run is the cold start
            check_version(runner)
            check_listing(args.bundle)
            check_wall(runner, work)
            check_embedded_server(runner, work)
            check_unwritable_data_dir(runner, work)
            check_export(runner)
            check_install(args.bundle, work)
        except (SmokeFailure, subprocess.TimeoutExpired) as exc:
            print(f"FAIL {exc}", file=sys.stderr)
            return 1
    size_mb, count = bundle_size(args.bundle)
    figure("bundle_mb", size_mb, "MB")
    print(f"packaging.bundle_files: {count} files")
    if args.build_seconds is not None:
        figure("build_s", args.build_seconds, "s")
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
