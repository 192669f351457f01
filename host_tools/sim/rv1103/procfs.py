"""The emulated Luckfox Pico's /proc figures: CPU and memory as a single-core, 64 MB board would report them.

Written every second into <root>/run/emulated-proc/ (the board's rcS binds them over its /proc files; where
proc cannot be mounted, <root>/proc holds links to them):
  cpuinfo   a Cortex-A7 (the RV1103's CPU), marked emulated
  meminfo   MemTotal of the board; MemFree/MemAvailable = MemTotal minus what the board's processes use (their
            resident memory on this host)
  stat      one CPU: user/system = the CPU time of the board's processes, idle = the rest of its uptime
  uptime, loadavg, version
Timings and loads come from this host's CPU, which is faster than the board's: the figures say how much of one
core the board program takes here, not on an RV1103.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

FIGURES = "run/emulated-proc"
MEM_TOTAL_KB = 65536  # the Luckfox Pico's 64 MB
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

CPUINFO = """\
processor	: 0
model name	: ARMv7 Processor rev 5 (v7l)
BogoMIPS	: 48.00
Features	: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm
CPU implementer	: 0x41
CPU architecture: 7
CPU variant	: 0x0
CPU part	: 0xc07
CPU revision	: 5

Hardware	: Rockchip RV1103 (emulated on this host)
Revision	: 0000
Serial		: 0000000000000000
"""


def _proc_stat(pid: int) -> tuple[int, int, int]:
    """(utime, stime in ticks, rss in kB) of a host process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12]), int(fields[21]) * PAGE_KB


class ProcFigures:
    def __init__(self, root: Path, board_pids: Callable[[], list[int]]) -> None:
        self.dir = Path(root) / FIGURES
        self.proc = Path(root) / "proc"
        self.board_pids = board_pids
        self.boot = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="emulated-proc", daemon=True)

    def start(self) -> ProcFigures:
        self.dir.mkdir(parents=True, exist_ok=True)
        release = os.uname().release
        self._write("cpuinfo", CPUINFO)
        self._write("version", f"Linux version 5.10.160 (emulated RV1103 board; host kernel {release})\n")
        self.update()
        for name in ("cpuinfo", "meminfo", "stat", "uptime", "loadavg", "version"):
            link = self.proc / name
            if not (link.is_symlink() or link.exists()):
                link.symlink_to(f"/{FIGURES}/{name}")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _write(self, name: str, text: str) -> None:
        # In place, not by rename: the board's bind mount follows this inode.
        fd = os.open(self.dir / name, os.O_WRONLY | os.O_CREAT, 0o444)
        try:
            data = text.encode()
            os.write(fd, data)
            os.ftruncate(fd, len(data))
        finally:
            os.close(fd)

    def update(self) -> None:
        user = system = rss = 0
        pids = self.board_pids()
        for pid in pids:
            try:
                u, s, r = _proc_stat(pid)
            except (OSError, IndexError, ValueError):
                continue
            user, system, rss = user + u, system + s, rss + r
        up = time.monotonic() - self.boot
        idle = max(0, int(up * TICKS) - user - system)
        free = max(0, MEM_TOTAL_KB - rss)
        self._write("meminfo", f"MemTotal:       {MEM_TOTAL_KB:8d} kB\nMemFree:        {free:8d} kB\n"
                               f"MemAvailable:   {free:8d} kB\nBuffers:               0 kB\n"
                               "Cached:                0 kB\n")
        cpu = f"{user} 0 {system} {idle} 0 0 0 0 0 0"
        self._write("stat", f"cpu  {cpu}\ncpu0 {cpu}\nbtime {int(time.time() - up)}\n"
                            f"processes {len(pids)}\nprocs_running 1\nprocs_blocked 0\n")
        self._write("uptime", f"{up:.2f} {idle / TICKS:.2f}\n")
        try:
            self._write("loadavg", Path("/proc/loadavg").read_text())
        except OSError:
            pass

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.update()
            except OSError:
                pass
