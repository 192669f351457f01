"""Byte transports to a board (serial ports and pseudo-terminals). Bytes only: no protocol knowledge."""
