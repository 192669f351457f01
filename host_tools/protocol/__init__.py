"""Host <-> OpenMV protocols.

- v2_host.V2Client: Protocol V2 (firmware 5) over v2_link (seq/ACK/retransmit) and packet (framing, CRCs).
- legacy.RawRepl: the MicroPython raw REPL of firmware 4.x (exec; file operations: devices/).
- usbdbg.UsbdbgClient: firmware 4.x's IDE debug protocol at 921600 baud (exec, output, JPEG frames).
- v2_device.V2Device: the device side, used by the emulated camera (host_tools/sim/openmv/pty_server.py).
Which protocol a camera speaks, and the boards' file operations, live in host_tools.devices.
"""
