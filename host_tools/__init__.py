"""host_tools: flash, watch, benchmark and tune small int8 image classifiers on camera boards.

Boards: OpenMV Cam H7 / H7 Plus (USB serial) and Rockchip RV1103 (adb / ssh). Every board has an emulated
twin (`host_tools sim ...`) that runs the real on-board code.
"""

__version__ = "0.1.0"
