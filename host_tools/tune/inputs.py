"""What `tune sweep` and `tune ui` take: session folders and image folders by class, as one Session."""

from __future__ import annotations

from pathlib import Path

from host_tools.errors import UsageError
from host_tools.tune import dataset, scores


def load_inputs(paths: list[Path], board: str | None, model: Path | None = None, config: Path | None = None,
                rescore: bool = False) -> scores.Session:
    sessions = []
    for p in paths:
        if not p.exists():
            raise UsageError(f"{p}: no such session or image folder")
        if not p.is_dir():
            raise UsageError(f"{p}: not a folder (give a session folder or DATASET with <label>/*.jpg)")
        if scores.is_session(p):
            s = scores.load(p)
            if board is not None and s.board != board:
                raise UsageError(f"{p}: a session of the {s.board} board, not {board}")
        elif dataset.is_dataset(p):
            if board is None:
                raise UsageError(f"{p}: an image folder is scored by an emulated board: give --board "
                                 "openmv or --board rv1103")
            s = dataset.score_dataset(p, board, model, config, rescore)
        else:
            raise UsageError(f"{p}: neither a tune session (session.json) nor an image folder laid out by "
                             "class (DATASET/<label>/*.jpg)")
        sessions.append(s)
    return sessions[0] if len(sessions) == 1 else scores.merge(sessions)
