"""Emulated boards: the real on-board code running on emulated hardware with a real inference runtime."""
