"""The camrt package: the extension module camrt._camrt inside it, re-exported by camrt/__init__.py, and its
typed stub (made by nanobind's stubgen, checked in) in step with the bindings."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import camrt
import camrt._camrt as ext
import pytest

STUB = Path(__file__).resolve().parents[2] / "cpp_runtime" / "python" / "camrt" / "_camrt.pyi"


def public_names(module) -> set[str]:
    return {n for n in dir(module) if not n.startswith("_")}


def test_camrt_is_a_package_around_the_extension():
    assert hasattr(camrt, "__path__"), "camrt must be a package"
    assert Path(ext.__file__).suffix == ".so" and Path(ext.__file__).parent.name == "camrt"
    assert (Path(camrt.__file__).parent / "py.typed").is_file()


def test_init_reexports_every_binding():
    missing = public_names(ext) - set(camrt.__all__)
    assert not missing, f"camrt/__init__.py does not re-export {sorted(missing)}"
    assert set(camrt.__all__) <= public_names(ext)
    for name in camrt.__all__:
        assert getattr(camrt, name) is getattr(ext, name)


def test_stub_declares_exactly_the_module_names():
    tree = ast.parse(STUB.read_text())
    declared = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            declared.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            declared.add(node.target.id)
    assert declared == public_names(ext)


def test_stub_is_what_stubgen_makes_of_the_built_module(tmp_path):
    pytest.importorskip("nanobind.stubgen")
    out = tmp_path / "_camrt.pyi"
    r = subprocess.run([sys.executable, "-m", "nanobind.stubgen", "-q", "-m", "camrt._camrt", "-o", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert out.read_text() == STUB.read_text(), (
        "cpp_runtime/python/camrt/_camrt.pyi is out of date with the bindings: run `make stubs` "
        "(a different nanobind version also changes the output)")
