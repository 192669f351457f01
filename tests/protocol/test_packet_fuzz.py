"""The incremental parser against random and corrupted input (seeded, bounded: 12,000 inputs)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host_tools.protocol.packet import Packet, PacketError, Parser, encode


def _packet(rng: random.Random) -> Packet:
    n = rng.choice([0, 0, 1, 4, rng.randrange(0, 80)])
    seq, chan, flags, op = rng.randrange(256), rng.randrange(32), rng.randrange(64), rng.randrange(0x30)
    return Packet(seq, chan, flags, op, rng.randbytes(n))


def _feed_chunked(parser: Parser, data: bytes, rng: random.Random) -> list[Packet]:
    out, i = [], 0
    while i < len(data):
        step = rng.randrange(1, 40)
        out += parser.feed(data[i : i + step])
        i += step
    return out + parser.drain()


def _is_subsequence(needles: list[Packet], hay: list[Packet]) -> bool:
    it = iter(hay)
    return all(any(n == h for h in it) for n in needles)


def test_roundtrip_every_split_point() -> None:
    pkts = [Packet(1, 2, 0, 0x26, b"x" * 30), Packet(2, 0, 1, 0), Packet(3, 5, 16, 0x27, bytes(range(200)))]
    wire = b"".join(encode(p) for p in pkts)
    for cut in range(len(wire) + 1):
        parser = Parser()
        assert parser.feed(wire[:cut]) + parser.feed(wire[cut:]) == pkts
        assert parser.pending == 0


def test_fuzz_packets_in_garbage_and_corruption() -> None:
    rng = random.Random(20251123)
    recovered = corrupted_cases = 0
    for case in range(12_000):
        kept: list[Packet] = []  # packets whose bytes reach the parser intact
        sent: set[bytes] = set()
        stream = bytearray()
        for _ in range(rng.randrange(1, 4)):
            stream += rng.randbytes(rng.randrange(0, 48))  # line noise
            if rng.random() < 0.1:
                stream += b"\xaa\xd5"  # a fake sync word
            p = _packet(rng)
            raw = bytearray(encode(p))
            sent.add(encode(p))
            mode = rng.random()
            if mode < 0.55:
                kept.append(p)
            elif mode < 0.7:
                raw = raw[: rng.randrange(len(raw))]  # truncated
            elif mode < 0.8:
                del raw[rng.randrange(len(raw))]  # a dropped byte
            elif mode < 0.9:
                raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)  # a flipped bit
            else:
                raw = bytearray()  # the whole packet dropped
            corrupted_cases += mode >= 0.55
            stream += raw
        parser = Parser(max_payload=rng.choice([498, 0xFFFF]))
        got = _feed_chunked(parser, bytes(stream), rng)
        assert _is_subsequence(kept, got), f"case {case}: lost a valid packet"
        for g in got:  # nothing invented: every packet out is one that was sent intact
            assert encode(g) in sent, f"case {case}: phantom packet {g}"
        assert parser.pending == 0
        recovered += len(kept)
    assert recovered > 10_000 and corrupted_cases > 5_000


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 299))
def test_arbitrary_bytes_never_raise(data: bytes, cut: int) -> None:
    parser = Parser()
    out = parser.feed(data[:cut]) + parser.feed(data[cut:]) + parser.drain()
    assert all(isinstance(p, Packet) for p in out)
    assert parser.pending == 0


def test_only_parse_error_for_bad_input_type() -> None:
    with pytest.raises(PacketError):
        Parser().feed("not bytes")  # type: ignore[arg-type]
    with pytest.raises(PacketError):
        encode(Packet(256, 0, 0, 0))


def test_header_longer_than_limit_is_skipped() -> None:
    big = encode(Packet(1, 1, 0, 0x26, bytes(600)))
    small = encode(Packet(2, 1, 0, 0x26, b"ok"))
    parser = Parser(max_payload=498)
    assert parser.feed(big + small) == [Packet(2, 1, 0, 0x26, b"ok")]
    assert parser.stats.header_errors >= 1
