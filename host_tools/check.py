"""Every reason `host_tools flash` would refuse a model + config for a board, collected instead of raised.

Each step calls the check flash itself uses (flash.py, model_check.py, model_budget.py; for the RV1103 the
board program's own config parser through camrt, and the NPU limits of profile/rknn_npu.py); a step whose
input an earlier step found unreadable is skipped, since its verdict would only repeat that problem.
"""

from __future__ import annotations

from pathlib import Path

from host_tools import rv1103_config
from host_tools.errors import HostToolsError
from host_tools.model_manifest import load_manifest


def _try(problems: list[str], fn, *args):
    try:
        return fn(*args)
    except HostToolsError as exc:
        problems.append(str(exc).replace("; nothing was sent", ""))
    except ValueError as exc:
        problems.append(str(exc))
    return None


def check_openmv(board: str, model: Path, config: Path | None) -> list[str]:
    from host_tools import flash
    from host_tools.model_budget import fits_firmwares
    from host_tools.model_check import check_input
    from host_tools.paths import OPENMV_APP_DIR
    from host_tools.profile.graph_tflite import read_tflite
    from host_tools.profile.h7_ops import SOURCE, unsupported

    problems: list[str] = []
    if not model.is_file():
        return [f"model not found: {model}"]
    manifest = _try(problems, load_manifest, model)
    labels = list(manifest.labels) if manifest else None
    if manifest is not None and labels is not None:
        outputs = flash.model_output_count(model)
        if outputs is not None and outputs != len(labels):
            problems.append(
                f"{manifest.source} has {len(labels)} labels but {model.name} gives "
                f"{outputs} scores (main.py would stop on this)"
            )
    if config is None and (OPENMV_APP_DIR / flash.CONFIG_NAME).is_file():
        config = OPENMV_APP_DIR / flash.CONFIG_NAME
    data = None
    if config is not None and labels is not None:
        data = _try(problems, flash.validate_config, config, labels)
    elif config is not None:  # without labels the app's rules would only repeat that problem: JSON only
        raw = _try(problems, flash._read, config, "config")
        errors = flash._plain_json_errors(raw) if raw is not None else []
        problems += [f"config {config}: {e}" for e in errors]
    pixformat, framesize = flash.config_settings(data) if data else ("RGB565", "QVGA")
    graph = _try(problems, read_tflite, model)
    if graph is None:
        return problems
    missing = unsupported([x.op for x in graph.layers])
    if missing:
        problems.append(
            f"ops the OpenMV firmware's TensorFlow Lite Micro does not register ({SOURCE}): "
            + ", ".join(missing)
        )
    _try(problems, check_input, model, pixformat)
    fits = _try(problems, fits_firmwares, model, board, framesize, pixformat)
    if fits:
        good = [f for f in fits.values() if f.fits]
        if not good:
            worst = next(iter(fits.values()))
            problems.append(flash._not_fit(model, board, worst).replace("; nothing was sent", ""))
        else:
            _try(problems, flash.trial_run_cached, model, model.read_bytes(), good[0].arena_bytes)
    return problems


def check_rv1103(model: Path, config: Path | None, warnings: list[str]) -> list[str]:
    from host_tools.paths import RV1103_CONFIG
    from host_tools.profile.report import graph_of
    from host_tools.profile.rknn_npu import npu_findings

    problems: list[str] = []
    if model.suffix.lower() != ".rknn":
        problems.append(
            f"{model}: the board program loads a .rknn model (convert the ONNX with the RKNN "
            "toolkit: models/birds/build_rknn.py)"
        )
    if not model.is_file():
        return problems + [f"model not found: {model}"]
    config = config or RV1103_CONFIG
    cfg = None
    # the model's manifest, as the deploy puts it beside the model: a config that contradicts it is refused
    manifest = _try(problems, rv1103_config.manifest_of, model)
    try:
        import camrt

        try:
            text = config.read_bytes().decode("utf-8")
            cfg = rv1103_config.parse(text, manifest)
        except OSError as exc:
            problems.append(f"config {config}: cannot read it ({exc.strerror or exc})")
        except UnicodeError:
            problems.append(f"config {config}: not UTF-8 text")
        except Exception as exc:  # noqa: BLE001 - camrt.ConfigError carries the board program's message
            problems.append(f"config {config} would be rejected by the board program: {exc}")
    except ImportError:
        problems.append("cannot check the config: the camrt bindings are not built (make setup)")
    got = _try(problems, graph_of, model, "rv1103")
    if got is not None:
        graph = got[0]
        # The .rknn was built: the toolkit placed these ops somewhere (CPU, a rewrite): slower, not refused.
        warnings += [f"NPU: {note}" for note in npu_findings(graph)]
        outputs = graph.outputs[0]["shape"][-1] if graph.outputs and graph.outputs[0]["shape"] else None
        if cfg is not None and outputs:
            try:
                camrt.check_model_classes(cfg, int(outputs))
            except Exception as exc:  # noqa: BLE001
                problems.append(f"config {config}: {exc}")
    return problems


def check_pair(board: str, model: Path, config: Path | None) -> tuple[list[str], list[str]]:
    """(problems flash would refuse on, warnings that do not stop it)."""
    model = Path(model)
    warnings: list[str] = []
    if board == "rv1103":
        return check_rv1103(model, config, warnings), warnings
    return check_openmv(board, model, config), warnings
