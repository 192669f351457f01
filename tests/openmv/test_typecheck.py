"""The OpenMV app type-checks (mypy) against MicroPython's stubs for the H7's port (micropython-stm32-stubs)
and stubs of OpenMV's own modules (tests/openmv/stubs); those stubs agree with the emulated firmware modules
of every emulated version, names and parameters, so the app, the emulator and the stubs agree on every call.

mypy and the MicroPython stubs live in their own venv (.venv-stubs, made by `make`): the stubs drop .pyi
files for `time`, `os`, `machine`... that must not shadow the main venv's standard library."""

from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import types
from pathlib import Path

import pytest

from host_tools.openmv_firmware import EMULATED, Firmware, parse_version
from host_tools.paths import OPENMV_APP_DIR, REPO_ROOT

STUBS = Path(__file__).with_name("stubs")
STUB_VENV = REPO_ROOT / ".venv-stubs"
MODULES = ("sensor", "csi", "image", "ml", "ml.preprocessing", "tf", "omv")
_RANGE = re.compile(r"#\s*firmware\s*(>=|<)\s*([0-9.]+)")


def _mypy_setup(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    mypy = STUB_VENV / "bin" / "mypy"
    mpy = STUB_VENV / "mpy-stubs"
    if not mypy.exists() or not mpy.is_dir():
        pytest.skip(f"no {STUB_VENV} with mypy and micropython-stm32-stubs (`make` creates it)")
    typeshed = next(STUB_VENV.glob("lib/python3*/site-packages"))
    third_party = sorted({p.stem for p in mpy.glob("*.pyi")}
                         | {f"{p.name},{p.name}.*" for p in mpy.iterdir() if p.is_dir()})
    cfg = tmp_path / "mypy.ini"
    cfg.write_text("[mypy]\nwarn_unused_ignores = True\ncache_dir = " + str(tmp_path / "cache") + "\n"
                   f"[mypy-{','.join(third_party)}]\nignore_errors = True\n")  # their own stub nits
    cmd = [str(mypy), "--config-file", str(cfg), "--custom-typeshed-dir", str(typeshed), "--no-site-packages"]
    env = {**os.environ, "MYPYPATH": f"{STUBS}{os.pathsep}{mpy}"}
    return cmd, env


def test_the_app_type_checks_against_micropython_and_openmv_stubs(tmp_path: Path) -> None:
    cmd, env = _mypy_setup(tmp_path)
    r = subprocess.run(cmd + sorted(str(p) for p in OPENMV_APP_DIR.glob("*.py")), capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    # The check can fail: a wrong call, and a frame size 4.8+'s csi does not have.
    bad = tmp_path / "bad.py"
    bad.write_text("import sensor\nimport csi\nsensor.set_framesize('QVGA')\nprint(csi.B64X64)\n"
                   "import time\ntime.ticks_us(1)\n")
    r = subprocess.run(cmd + [str(bad)], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 1
    assert "set_framesize" in r.stdout and "B64X64" in r.stdout and "ticks_us" in r.stdout, r.stdout


def _available(comment: str, fw: Firmware) -> bool:
    m = _RANGE.search(comment)
    if not m:
        return True
    bound = parse_version(m.group(2))
    return fw.version >= bound if m.group(1) == ">=" else fw.version < bound


def _stub_names(module: str) -> tuple[str, dict[str, tuple[str, list[str] | None]]]:
    """(module-level comment, name -> (its line's comment, parameter names)); methods as Class.name."""
    path = STUBS / (module.replace(".", "/") + ".pyi")
    if not path.exists():
        path = STUBS / module / "__init__.pyi"
    text = path.read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    out: dict[str, tuple[str, list[str] | None]] = {}

    def params(fn: ast.FunctionDef) -> list[str]:
        return [a.arg for a in fn.args.args + fn.args.kwonlyargs if a.arg != "self"]

    for node in tree.body:
        comment = lines[getattr(node, "end_lineno", node.lineno) - 1] if hasattr(node, "lineno") else ""
        if isinstance(node, ast.FunctionDef):
            out[node.name] = (comment, params(node))
        elif isinstance(node, ast.ClassDef):
            out[node.name] = (lines[node.lineno - 1], None)
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("_"):
                    out[f"{node.name}.{item.name}"] = (lines[node.lineno - 1], params(item))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = (comment, None)
    return (lines[0] if lines else ""), out


def _emulated(fw: str, frames: Path, tmp_path: Path) -> dict[str, types.ModuleType | None]:
    from host_tools.sim.openmv.camera import EmulatedCamera, SimOptions
    from host_tools.sim.openmv.runtime import ScriptRun

    cam = EmulatedCamera(SimOptions(frames=frames, fs_root=tmp_path / fw, firmware=fw), lambda _t: None)
    run = ScriptRun(cam.state)
    mods: dict[str, types.ModuleType | None] = {}
    for name in MODULES:
        try:
            mods[name] = run.module(name)
        except ImportError:
            mods[name] = None
    return mods


@pytest.mark.parametrize("firmware", EMULATED)
def test_the_stubs_agree_with_the_emulated_firmware(tmp_path: Path, mask_frames: Path, firmware: str) -> None:
    fw = Firmware.of(firmware)
    mods = _emulated(firmware, mask_frames, tmp_path)
    if fw.csi == "alias":
        assert mods["csi"] is mods["sensor"]  # 4.6-4.7: the same module, no CSI class
    for name in MODULES:
        head, names = _stub_names(name)
        mod = mods[name]
        if name == "csi" and fw.csi != "ng":
            continue
        if not _available(head, fw):
            assert mod is None, f"{name} should not exist on {firmware}"
            continue
        assert mod is not None, f"the emulated {firmware} has no {name}"
        if name in ("sensor", "csi"):  # the frame-size constants differ per version: both ways
            consts = {n for n in vars(mod) if n.isupper() and isinstance(getattr(mod, n), int)}
            missing = sorted(consts - set(names))
            assert not missing, f"{name} on {firmware} has {missing}, which the stubs lack"
        for attr, (comment, stub_params) in names.items():
            obj: object = mod
            for part in attr.split("."):
                obj = getattr(obj, part, None) if obj is not None else None
            if not _available(comment, fw):
                assert obj is None, f"{name}.{attr} should not exist on {firmware}"
                continue
            assert obj is not None, f"{name}.{attr} is in the stubs but not in the emulated {firmware}"
            if stub_params is not None and callable(obj):
                try:
                    sig = inspect.signature(obj)
                except (TypeError, ValueError):
                    continue
                real = [p.name for p in sig.parameters.values() if p.name != "self"
                        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
                if any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values()):
                    continue  # the emulator takes anything there
                assert stub_params == real[: len(stub_params)] or set(stub_params) <= set(real), (
                    f"{name}.{attr}: stub parameters {stub_params}, emulated {real}")
