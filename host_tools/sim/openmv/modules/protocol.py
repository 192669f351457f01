"""`import protocol` on the emulated board: see host_tools/sim/openmv/mp_protocol.py."""

from host_tools.sim.openmv.mp_protocol import make

__all__ = ["make"]
