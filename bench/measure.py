"""Measuring a command: its wall time and the peak memory of its whole process tree (PSS
sampled every 100 ms, and the kernel's peak for a cgroup holding the tree), and the
environment every measured build runs with."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.settings import VENV_BIN

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Measured:
    seconds: float
    # The process tree's peak proportional set size (PSS): each process's private pages,
    # plus its share of pages it shares with others, so a page mapped by two processes
    # counts once in all; sampled every SAMPLE_SECONDS.
    peak_mib: float
    returncode: int
    output: str = ""
    # The kernel's own peak for a memory cgroup holding the tree (never misses a short
    # peak; it also counts the page cache the tree's files filled): 0 where no cgroup
    # can be made (not root, no cgroup file system).
    cgroup_peak_mib: float = 0.0
    # The most the command's spill folder (DuckDB's temp_directory) held at once, sampled
    # with the memory: what a build wrote to disk because it did not fit in memory.
    spill_peak_mib: float = 0.0
    # When the PSS peak was sampled (seconds since the epoch) and the tree's processes at
    # that moment, largest first (name and PSS in MiB): what to look at when it is too high.
    peak_at: float = 0.0
    peak_processes: list[tuple[str, float]] = field(default_factory=list)


SAMPLE_SECONDS = 0.1
PAGE = os.sysconf("SC_PAGE_SIZE")


def _pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:  # gone, or a kernel older than 4.14 without smaps_rollup: its RSS
        # (an upper bound of its PSS)
        try:
            return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE // 1024
        except OSError:
            return 0
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:")), 0)


def tree_pids(root: int) -> list[int]:
    """A process and all its live descendants (from each thread's `children` file: no
    walk over every process of the machine)."""
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                stack.extend(
                    int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()
                )
        except OSError:  # ended meanwhile
            continue
    return found


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def tree_processes(roots: list[int]) -> list[tuple[int, float]]:
    """Every process of the trees under `roots` with its PSS in MiB."""
    return [(pid, _pss_kib(pid) / 1024) for root in roots for pid in tree_pids(root)]


# Where a memory cgroup is made, and the file holding its peak: cgroup v2, then v1.
CGROUP_PEAKS = [
    (Path("/sys/fs/cgroup"), "memory.peak"),
    (Path("/sys/fs/cgroup/memory"), "memory.max_usage_in_bytes"),
]


class MemoryCgroup:
    """A cgroup (v2, or v1's memory controller) the measured command starts in, when this
    process may make one; its peak is the kernel's (memory.peak, memory.max_usage_in_bytes)."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.peak_file = ""
        name = f"dongne-bench-{os.getpid()}-{time.monotonic_ns()}"
        for root, peak in CGROUP_PEAKS:
            try:
                (root / name).mkdir()
            except OSError:
                continue
            if (root / name / peak).exists():
                self.path, self.peak_file = root / name, peak
                return
            (root / name).rmdir()  # a folder without the memory controller

    def enter(self) -> None:
        """Run in the child before it starts the command (Popen's preexec_fn): join the
        cgroup, or stay outside it (the peak then reads 0: not measured)."""
        if self.path is not None:
            with contextlib.suppress(OSError):
                (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def close(self) -> float:
        """The peak in MiB (0 without a cgroup, or when the command never joined it); the
        cgroup is removed (a warning names it when its last processes would not go)."""
        if self.path is None:
            return 0.0
        try:  # nothing is charged to a cgroup the command never joined: 0
            return int((self.path / self.peak_file).read_text()) / 2**20
        finally:
            for attempt in range(50):  # its last processes may still be exiting
                if attempt == 20:  # a process outliving the command (a daemon's child)
                    self._release_leftovers()
                try:
                    self.path.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                print(f"warning: could not remove the cgroup {self.path}", file=sys.stderr)

    def _release_leftovers(self) -> None:
        """Move the processes still in the cgroup to its parent, so that it can go."""
        assert self.path is not None
        with contextlib.suppress(OSError):
            for pid in (self.path / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    (self.path.parent / "cgroup.procs").write_text(pid)


def folder_mib(folder: Path) -> float:
    """The size of the files under a folder, in MiB (0 when it does not exist)."""
    total = 0
    for path in folder.rglob("*") if folder.is_dir() else ():
        with contextlib.suppress(OSError):
            total += path.stat().st_size if path.is_file() else 0
    return total / 2**20


def measure(
    command: list[str],
    env: dict[str, str],
    log: Path,
    also: Callable[[], list[int]] | None = None,
    spill: Path | None = None,
) -> Measured:
    """Run `command`, sampling the PSS of its process tree every SAMPLE_SECONDS, inside
    a memory cgroup where one can be made. `also`: more processes whose trees count in the
    peak (a cluster's JVMs, which the command talks to but did not start); `spill`: a
    folder whose size is sampled alongside."""
    peak = spilled = peak_at = 0.0
    at_peak: list[tuple[str, float]] = []
    cgroup = MemoryCgroup()
    began = time.perf_counter()
    try:
        with log.open("w") as output:
            process = subprocess.Popen(
                command,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                preexec_fn=cgroup.enter,  # writes one file: safe before exec
            )
            done = threading.Event()

            def sample() -> None:
                nonlocal peak, spilled, peak_at, at_peak
                while not done.is_set():
                    processes = tree_processes([process.pid, *(also() if also else [])])
                    total = sum(mib for _, mib in processes)
                    if total > peak:
                        peak, peak_at = total, time.time()
                        largest = sorted(processes, key=lambda p: -p[1])[:4]
                        at_peak = [(_name(pid), round(mib, 1)) for pid, mib in largest]
                    if spill is not None:
                        spilled = max(spilled, folder_mib(spill))
                    done.wait(SAMPLE_SECONDS)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            process.wait()
            done.set()
            sampler.join()
        seconds = time.perf_counter() - began
    finally:
        cgroup_peak = cgroup.close()
    return Measured(
        seconds,
        peak,
        process.returncode,
        log.read_text()[-3000:],
        cgroup_peak_mib=cgroup_peak,
        spill_peak_mib=spilled,
        peak_at=peak_at,
        peak_processes=at_peak,
    )


def base_env(raw: Path, data: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DONGNE_")}
    env.update(
        {
            "DONGNE_RAW_DIR": str(raw),
            "DONGNE_DATA_DIR": str(data),
            "DONGNE_PII_SALT": "benchmark-salt",
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    env.update(extra)
    return env
