"""The model manifest a board keeps beside its model (model/model.json): written from the model card by
host_tools.model_manifest, read back the same by the host and by the board program's parser (camrt), and
carried by every release plan."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from host_tools import rv1103_config
from host_tools.errors import RefusedError
from host_tools.model_manifest import Manifest, board_manifest_json, load_manifest, read_card
from host_tools.paths import MODELS_DIR, RV1103_CONFIG

camrt = pytest.importorskip("camrt")

CARDS = sorted(p for p in MODELS_DIR.glob("*/*.json") if "labels" in json.loads(p.read_text()))


@pytest.mark.parametrize("card", CARDS, ids=lambda p: p.name)
def test_a_rendered_manifest_reads_back_as_its_card(card: Path, tmp_path: Path) -> None:
    manifest = read_card(card)
    out = tmp_path / "model.json"
    out.write_bytes(board_manifest_json(manifest))
    assert read_card(out) == replace(manifest, source=out)
    board = camrt.parse_manifest(out.read_text(), str(out))
    assert board.labels == list(manifest.labels) and board.color_order == manifest.colour_order


def test_a_labels_file_and_a_bgr_model_round_trip(tmp_path: Path) -> None:
    model = tmp_path / "m.rknn"
    model.write_bytes(b"")
    model.with_suffix(".txt").write_text("cat\ndog\n")
    manifest = load_manifest(model)
    out = tmp_path / "out.json"
    out.write_bytes(board_manifest_json(manifest))
    assert read_card(out) == replace(manifest, source=out)
    bgr = Manifest(labels=("a", "b", "c"), source=tmp_path / "c.json", width=32, height=24,
                   colour_order="BGR", mean=(1.0, 2.0, 3.0), std=(4.0, 5.0, 6.0))
    out.write_bytes(board_manifest_json(bgr))
    assert read_card(out) == replace(bgr, source=out)
    # the board program takes labels and colour order from it; a config stating others is refused
    cfg = rv1103_config.parse('{"thresholds": {"c": 0.7}}', bgr)
    assert cfg.labels == ["a", "b", "c"] and cfg.color_order == "BGR"
    with pytest.raises(camrt.ConfigError, match=r"'color_order' RGB contradicts the model manifest's colour "
                                                r"order BGR \(.*c\.json\)"):
        rv1103_config.parse('{"color_order": "RGB"}', bgr)


def test_the_release_carries_the_manifest_where_the_board_looks(tmp_path: Path) -> None:
    from host_tools.deploy.plan import plan_release
    from host_tools.sim.rv1103.model_twin import card_board_model, default_card

    model = card_board_model(default_card())
    if model is None:
        pytest.skip("no board model beside the default card")
    plan = plan_release(model, None, "host")
    manifest = load_manifest(model)
    assert plan.file("model/model.json").data == board_manifest_json(manifest)
    assert plan.labels == list(manifest.labels)
    assert "labels" not in json.loads(plan.file("config.json").data)
    # a model path whose manifest would land on another release file is refused before anything is sent
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({**json.loads(RV1103_CONFIG.read_text()), "model": "config.rknn"}))
    with pytest.raises(RefusedError, match="leaves no room for its manifest"):
        plan_release(model, cfg, "host")
