"""Protocol V2 constants, as the OpenMV firmware's docs/protocol.md and the openmv-python client say."""

from __future__ import annotations

from enum import IntEnum, IntFlag

SYNC_WORD = 0xD5AA  # little-endian on the wire: aa d5
SYNC_BYTES = b"\xaa\xd5"
HEADER_SIZE = 10  # sync(2) seq(1) chan(1) flags(1) opcode(1) length(2) crc16(2)
CRC32_SIZE = 4
MIN_PAYLOAD = 50  # OMV_PROTOCOL_MIN_PAYLOAD_SIZE: a host's packets stay this small until SET_CAPS
H7_BUFFER_SIZE = 512  # the OpenMV H7's protocol buffer
H7_MAX_PAYLOAD = H7_BUFFER_SIZE - HEADER_SIZE - CRC32_SIZE  # 498

RTX_RETRIES = 3
RTX_TIMEOUT_S = 0.5  # doubled after each timeout


class Flag(IntFlag):
    ACK = 1
    NAK = 2
    RTX = 4
    ACK_REQ = 8
    FRAGMENT = 16
    EVENT = 32


class Op(IntEnum):
    SYNC = 0x00
    GET_CAPS = 0x01
    SET_CAPS = 0x02
    STATS = 0x03
    VERSION = 0x04
    RESET = 0x10
    BOOT = 0x11
    SYS_INFO = 0x12
    SYS_EVENT = 0x13
    CHANNEL_LIST = 0x20
    POLL = 0x21
    LOCK = 0x22
    UNLOCK = 0x23
    SHAPE = 0x24
    SIZE = 0x25
    READ = 0x26
    WRITE = 0x27
    IOCTL = 0x28
    CHANNEL_EVENT = 0x29


class Status(IntEnum):
    SUCCESS = 0
    FAILED = 1
    INVALID = 2
    TIMEOUT = 3
    BUSY = 4
    CHECKSUM = 5
    SEQUENCE = 6
    OVERFLOW = 7
    FRAGMENT = 8
    UNKNOWN = 9


class CapFlag(IntFlag):
    CRC = 1
    SEQ = 2
    ACK = 4
    EVENTS = 8


class ChannelFlag(IntFlag):
    READ = 1
    WRITE = 2
    EXEC = 4
    LOCK = 8
    STREAM = 16
    DYNAMIC = 32
    PHYSICAL = 64


class SysEvent(IntEnum):
    CHANNEL_REGISTERED = 0
    CHANNEL_UNREGISTERED = 1
    SOFT_REBOOT = 2


# Built-in channel ids and their ioctls.
CH_STDIN, CH_STDOUT, CH_STREAM, CH_PROFILE = 1, 2, 3, 4
STDIN_STOP, STDIN_EXEC, STDIN_RESET = 1, 2, 3
STREAM_CTRL, STREAM_RAW_CTRL, STREAM_RAW_CFG = 0, 1, 2

# Stream frame header: width, height, pixformat, depth (bytes per pixel, or the JPEG size), data offset.
STREAM_HEADER_FMT = "<IIIII"
STREAM_HEADER_SIZE = 20
PIXFORMAT_GRAYSCALE = 0x08020001
PIXFORMAT_RGB565 = 0x0C030002
PIXFORMAT_JPEG = 0x06060000
PIXFORMAT_NAMES = {PIXFORMAT_GRAYSCALE: "GRAYSCALE", PIXFORMAT_RGB565: "RGB565", PIXFORMAT_JPEG: "JPEG"}
