"""One command measured as a process of its own: wall and CPU seconds, peak memory (``benchmarks/bench.py``)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE_S = 0.25  # /proc sampling period: one scan costs ~10 ms of a core
PAGE = os.sysconf("SC_PAGE_SIZE")


def _descendants_rss(root: int) -> int:
    """Bytes resident now in all descendants of ``root`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()  # the name in parentheses may hold spaces
            except OSError:  # ended meanwhile
                continue
            pid = int(entry.name)
            children.setdefault(int(fields[1]), []).append(pid)
            rss[pid] = int(fields[21]) * PAGE
    total, todo = 0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


# The measured command runs under this small launcher, which reports its wall
# time and resource usage.  A process's peak RSS includes the memory of the
# process it was forked from, so forking the command from this benchmark
# (hundreds of MiB once the models are loaded) would inflate every figure.
_LAUNCHER = (
    "import json, resource, subprocess, sys, time; t = time.perf_counter(); rc = subprocess.call(sys.argv[2:]); "
    "wall = time.perf_counter() - t; u = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "open(sys.argv[1], 'w').write(json.dumps([wall, u.ru_utime + u.ru_stime, u.ru_maxrss])); sys.exit(rc)"
)


def measure(cmd: list, timeout: float | None = None, cwd: Path = REPO) -> dict | None:
    """Run ``cmd`` from ``cwd`` (default: the repo) as its own process and measure it.

    Wall and CPU seconds, the peak RSS of its largest process (the kernel's
    figure over the process and every descendant it waited for, so worker
    pools count) and the peak of all its processes together (sampled), in
    MiB.  None when it ran out of ``timeout``; a failure raises, with the
    end of its stderr.
    """
    cmd = [str(c) for c in cmd]
    with tempfile.TemporaryDirectory() as tmp:
        report, err_path = Path(tmp) / "usage.json", Path(tmp) / "stderr"
        with open(err_path, "wb") as err:
            proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, report, *cmd], cwd=cwd, stdout=subprocess.DEVNULL,
                                    stderr=err, start_new_session=True)
        done = threading.Event()
        peak = [0]

        def sample() -> None:
            while not done.wait(SAMPLE_S):
                peak[0] = max(peak[0], _descendants_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the command and its workers too
            proc.wait()
            return None
        finally:
            done.set()
            sampler.join()
        if rc != 0:
            tail = err_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
            raise RuntimeError(f"{' '.join(cmd)} exited with {rc}:\n" + "\n".join(tail))
        wall, cpu, largest = json.loads(report.read_text())
    largest *= 1024
    return {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
            "peak_rss_mib": round(largest / 2**20), "peak_total_rss_mib": round(max(peak[0], largest) / 2**20)}
