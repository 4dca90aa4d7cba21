#!/usr/bin/env python3
"""Writes the committed seed corpora fuzz/corpus/<target>/seed-<hash> from fixtures/codec/*.json.

Python 3 standard library only. Run from anywhere: `python3 fuzz/seed_corpus.py`.
`--check` writes nothing and exits 1 when the committed seeds differ from what it would write.

Each file holds the exact bytes one fuzz target takes (see fuzz/README.md for the input
format of each target). File names are `seed-` + the first 16 hex digits of the SHA-1 of the
content, so regenerating is stable and duplicates collapse. At most MAX_SEEDS per target, in
fixture order. Inputs the fuzzer finds itself are not committed (fuzz/.gitignore).
"""

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "codec"
CORPUS = ROOT / "fuzz" / "corpus"
MAX_SEEDS = 150
RS = b"\x1e"

# sio_reassemble flags byte: max_attachments = 10 (bits 0-1 = 3); bit 3 = Socket.IO v4 rules.
REASSEMBLE_V5 = 0x03
REASSEMBLE_V4 = 0x0B


def load(name):
    with open(FIXTURES / f"{name}.json", encoding="utf-8") as f:
        return json.load(f)


def wire_bytes(case, text_key="wire", hex_key="wire_hex"):
    """The case's bytes: `wire` as UTF-8 (lone surrogates kept as their invalid 3-byte form)
    or `wire_hex`."""
    if text_key in case:
        return case[text_key].encode("utf-8", "surrogatepass")
    if hex_key in case:
        return bytes.fromhex(case[hex_key])
    return None


def frame(data, binary):
    """One sio_reassemble frame: header (bit 7 binary, length or 127 + u16) then the data."""
    flag = 0x80 if binary else 0
    data = data[:0xFFFF]
    if len(data) < 127:
        return bytes([flag | len(data)]) + data
    return bytes([flag | 127]) + len(data).to_bytes(2, "big") + data


def eio_decode_text():
    for case in load("engineio-packets"):
        yield wire_bytes(case)
    for case in load("transcripts"):
        if case["kind"] in ("ws-text", "ws-binary"):
            yield wire_bytes(case)


def eio_decode_payload():
    for case in load("engineio-payloads"):
        yield wire_bytes(case, "body", "body_hex")
    for case in load("transcripts"):
        if case["kind"] == "polling-body":
            yield wire_bytes(case)


def socketio_texts_from_transcripts():
    """Socket.IO packets carried in captured Engine.IO v4 messages (`4…`)."""
    for case in load("transcripts"):
        if case["eio"] != 4 or "wire" not in case:
            continue
        records = [case["wire"]] if case["kind"] == "ws-text" else case["wire"].split("\x1e")
        for record in records:
            if record.startswith("4"):
                yield record[1:].encode("utf-8", "surrogatepass")


def sio_decode_text():
    for case in load("socketio-packets"):
        yield wire_bytes(case)
    yield from socketio_texts_from_transcripts()


def sio_reassemble():
    # Every fixture packet with its attachments.
    for case in load("socketio-packets"):
        flags = REASSEMBLE_V4 if case.get("sio") == 4 else REASSEMBLE_V5
        seed = bytes([flags]) + frame(wire_bytes(case), False)
        for attachment in case.get("attachments_hex", []):
            seed += frame(bytes.fromhex(attachment), True)
        yield seed
    # Whole captured WebSocket streams (one per file, channel and direction), in order.
    streams = {}
    for case in load("transcripts"):
        if case["kind"] == "ws-text" and case.get("wire", "").startswith("4"):
            data, binary = case["wire"][1:].encode("utf-8", "surrogatepass"), False
        elif case["kind"] == "ws-binary":
            data, binary = bytes.fromhex(case["wire_hex"]), True
            if case["eio"] == 3:
                data = data[1:]  # the v3 frame's 0x04 type byte
        else:
            continue
        key = (case["source"].split(":")[0], case["channel"], case["dir"])
        streams.setdefault(key, []).append(frame(data, binary))
    for frames in streams.values():
        yield bytes([REASSEMBLE_V5]) + b"".join(frames[:64])


def sio_roundtrip_structured():
    # Not fixture bytes: the input is a list of choices, not wire data. A grid over the
    # leading choice bytes (protocol, type, namespace, id, payload kind, JSON formatting...).
    for v4 in (0, 1):
        for packet_type in range(7):
            for fill in (0x00, 0x01, 0x02, 0x05, 0x06, 0x09, 0x3A, 0x7E):
                yield bytes([v4, packet_type, 1, fill, 3, 3, fill, 0, fill]) + bytes([fill]) * 8


def eio_handshake_json():
    for case in load("engineio-packets"):
        data = wire_bytes(case)
        if case.get("frame") == "text" and data.startswith(b"0"):
            yield data[1:]
    for case in load("transcripts"):
        data = wire_bytes(case)
        if data is None:
            continue
        records = data.split(RS) if case["kind"] == "polling-body" else [data]
        for record in records:
            # v3 polling records are `<len>:0{…}`.
            head, sep, tail = record.partition(b":")
            if case["eio"] == 3 and sep and head.isdigit():
                record = tail
            if record.startswith(b"0{"):
                yield record[1:]


TARGETS = {
    "eio_decode_text": eio_decode_text,
    "eio_decode_payload": eio_decode_payload,
    "sio_decode_text": sio_decode_text,
    "sio_reassemble": sio_reassemble,
    "sio_roundtrip_structured": sio_roundtrip_structured,
    "eio_handshake_json": eio_handshake_json,
}


def seeds(generate):
    out = {}
    for data in generate():
        if data is None:
            continue
        name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
        out.setdefault(name, data)
        if len(out) == MAX_SEEDS:
            break
    return out


def main():
    check = "--check" in sys.argv[1:]
    stale = False
    for target, generate in TARGETS.items():
        wanted = seeds(generate)
        directory = CORPUS / target
        present = {p.name: p.read_bytes() for p in directory.glob("seed-*")} if directory.is_dir() else {}
        if present == wanted:
            print(f"{target}: {len(wanted)} seeds, up to date")
            continue
        stale = True
        if check:
            print(f"{target}: seeds differ from fixtures (run python3 fuzz/seed_corpus.py)")
            continue
        directory.mkdir(parents=True, exist_ok=True)
        for name in present.keys() - wanted.keys():
            (directory / name).unlink()
        for name, data in wanted.items():
            (directory / name).write_bytes(data)
        print(f"{target}: wrote {len(wanted)} seeds")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
