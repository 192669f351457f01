"""Emulated RV1103 (Luckfox Pico): the real board program (rv1103_app) with an emulated camera and NPU,
run once (oneshot.py) or as a whole board reached over adb and ssh (serve.py)."""
