"""Emulated RV1103 (Luckfox Pico): the board's C++ pipeline (camrt) driven on the host by a real runtime."""
