"""Where the rv1103_app program that the emulated RV1103 runs comes from: the one place that knows.

The emulated board runs the real board program, statically linked so that it runs inside the device root
without any host library: the host build by default, the ARMv7 build (run under qemu-arm-static) on
request. Looked up in this order:
  1. $CAMCLASS_RV1103_APP (host) or $CAMCLASS_RV1103_APP_ARMV7: a program you built yourself;
  2. a source checkout: build/rv1103-emulated-<arch>/, (re)built with CMake when a source is newer (for
     armv7, the static build `make cpp-test` leaves in build/cpp-armv7/ when it is up to date);
  3. an installed wheel: host_tools/sim/rv1103/bin/rv1103_app (scikit-build builds it into the wheel).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from host_tools.errors import HostToolsError, UsageError
from host_tools.paths import REPO_ROOT

ARCHES = ("host", "armv7")
ENV = {"host": "CAMCLASS_RV1103_APP", "armv7": "CAMCLASS_RV1103_APP_ARMV7"}
PACKAGED = Path(__file__).resolve().parent / "bin" / "rv1103_app"
SOURCES = ("CMakeLists.txt", "rv1103_app/CMakeLists.txt", "rv1103_app/src", "rv1103_app/cmake",
           "cpp_runtime/src", "cpp_runtime/include", "cpp_runtime/CMakeLists.txt", "cpp_runtime/cmake")


def build_dir(arch: str) -> Path:
    return REPO_ROOT / "build" / f"rv1103-emulated-{arch}"


def _newest_source() -> float:
    newest = 0.0
    for rel in SOURCES:
        p = REPO_ROOT / rel
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()] if p.is_dir() else []
        newest = max([newest, *(f.stat().st_mtime for f in files)])
    return newest


def _fresh_static(exe: Path) -> bool:
    from host_tools.sim.rv1103.rootfs import is_static_elf

    return exe.is_file() and exe.stat().st_mtime >= _newest_source() and is_static_elf(exe)


def _build(arch: str) -> Path:
    tests_build = REPO_ROOT / "build" / "cpp-armv7" / "rv1103_app" / "rv1103_app"
    if arch == "armv7" and _fresh_static(tests_build):
        return tests_build
    out = build_dir(arch)
    exe = out / "rv1103_app" / "rv1103_app"
    if exe.is_file() and exe.stat().st_mtime >= _newest_source():
        return exe  # up to date (and nothing to write: a read-only checkout works too)
    for tool in ("cmake", "arm-linux-gnueabihf-g++" if arch == "armv7" else "g++"):
        if not shutil.which(tool):
            raise HostToolsError(f"building rv1103_app for the emulated board needs {tool} (`make setup` "
                                 "installs it)")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs may want it at once: one builds, the other waits
        if exe.is_file() and exe.stat().st_mtime >= _newest_source():
            return exe
        print(f"building rv1103_app ({arch}, static) for the emulated board in {out} ...", file=sys.stderr,
              flush=True)
        cfg = ["cmake", "-S", str(REPO_ROOT), "-B", str(out), "-DCMAKE_BUILD_TYPE=Release",
               "-DBUILD_TESTING=OFF", "-DBUILD_PYTHON_BINDINGS=OFF", "-DRV1103_STATIC=ON"]
        if shutil.which("ninja"):
            cfg += ["-G", "Ninja"]
        if arch == "armv7":
            cfg.append(f"-DCMAKE_TOOLCHAIN_FILE={REPO_ROOT / 'cpp_runtime' / 'cmake' / 'armv7-debian.cmake'}")
        jobs = str(max(1, min(2, os.cpu_count() or 1)))
        steps = [] if (out / "CMakeCache.txt").is_file() else [cfg]
        steps.append(["cmake", "--build", str(out), "--target", "rv1103_app", "-j", jobs])
        for argv in steps:
            r = subprocess.run(argv, capture_output=True, text=True)
            if r.returncode != 0:
                raise HostToolsError(f"building rv1103_app failed ({' '.join(argv[:3])} ...):\n"
                                     f"{(r.stdout + r.stderr)[-3000:]}")
        os.utime(exe)  # the build may leave it untouched when nothing it depends on changed
        return exe


def find_app(arch: str = "host") -> Path:
    """The rv1103_app program for `arch`; builds it in a source checkout when needed."""
    if arch not in ARCHES:
        raise UsageError(f"--arch must be one of {', '.join(ARCHES)}, got {arch!r}")
    if os.environ.get(ENV[arch]):
        exe = Path(os.environ[ENV[arch]])
        if not exe.is_file():
            raise UsageError(f"${ENV[arch]} names {exe}, which does not exist")
        return exe
    if (REPO_ROOT / "rv1103_app" / "CMakeLists.txt").is_file():
        return _build(arch)
    if arch == "host" and PACKAGED.is_file():
        return PACKAGED
    raise HostToolsError(f"no {arch} build of rv1103_app found: set ${ENV[arch]} to one (a static build: "
                         "cmake -DRV1103_STATIC=ON), or run from a source checkout")
