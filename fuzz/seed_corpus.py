#!/usr/bin/env python3
"""Writes the committed seed corpora fuzz/corpus/<target>/seed-<hash> from fixtures/codec/*.json
(and, for the targets whose input is a list of choices rather than wire bytes, from step
sequences written here: sio_roundtrip_structured, eio_server_session, sio_server_connection,
eio_client_session, sio_client_connection).

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


def sio_json_validate():
    # A shift byte (the padding that moves the text across the fast validator's 64-byte
    # blocks), then JSON: every fixture packet's payload, and texts around block boundaries.
    for case in load("socketio-packets"):
        text = wire_bytes(case)
        start = min((i for i in (text.find(b"["), text.find(b"{")) if i >= 0), default=-1)
        if start >= 0:
            yield bytes([len(text) % 64]) + text[start:]
    for shift in (0, 1, 31, 62, 63):
        yield bytes([shift]) + b'["' + b"a" * 60 + b'\\"\\u00e9",' + b"-12.5e+3" * 1 + b"]"
        yield bytes([shift]) + b'{"k":[true,false,null,{"n":' + b"1" * 70 + b'}]}'
        yield bytes([shift]) + b'["' + b"x" * 61 + b'\\\\", 0]'


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


# eio_server_session: a header byte (bit 0 v3, bit 1 opened over WebSocket, bit 2 b64), then
# steps (see sio_fuzz_oracles::eio_server_session). Step kinds and the client packet table:
EIO_GET, EIO_ABORT_GET, EIO_POST, EIO_POST_RAW, EIO_BEGIN_POST, EIO_WEBSOCKET = 0, 1, 2, 3, 4, 5
EIO_FRAME, EIO_FRAME_CLOSE, EIO_FRAME_BINARY, EIO_ADVANCE, EIO_SEND, EIO_CLOSE = 6, 7, 8, 9, 10, 11
EIO_ROUTE, EIO_FRAME_RAW, EIO_CLOSE_WITH = 12, 13, 14
EIO_PACKETS = ["2probe", "5", "3", "2", "1", "6", "4hi", "4", "0", "3probe", "2x", "b4AQI=",
               "bAQI=", "4\u00e9", "7", ""]


def eio_frame(packet):
    return [EIO_FRAME, EIO_PACKETS.index(packet)]


def eio_post(*packets):
    return [EIO_POST, len(packets) - 1] + [EIO_PACKETS.index(p) for p in packets]


def eio_send(count):
    return [EIO_SEND, count - 1]


def advance(ms):
    return [EIO_ADVANCE] + list(ms.to_bytes(2, "big"))


def eio_server_session():
    upgrade = (
        eio_send(2) + [EIO_GET]  # m0 m1 in the GET's answer
        + [EIO_GET, EIO_WEBSOCKET] + eio_frame("2probe")  # the parked GET released with 6
        + eio_send(1) + eio_frame("5")  # m2 waits in the outbox, goes to the WebSocket
        + eio_send(3) + advance(25_000)
    )
    for header in (0, 1, 4, 5):  # v4, v3, each with and without b64
        heartbeat = eio_frame("3") if header & 1 == 0 else eio_frame("2")
        yield bytes([header] + upgrade + heartbeat + eio_send(1) + [EIO_CLOSE])
        yield bytes([header] + upgrade + eio_frame("4hi") + advance(30_000) + advance(30_000))
    for header in (2, 3):  # opened over WebSocket
        yield bytes([header] + eio_send(4) + eio_frame("4hi") + [EIO_FRAME_BINARY, 2, 1, 2]
                    + advance(25_000) + eio_frame("3") + eio_frame("1") + eio_send(1))
        yield bytes([header] + eio_send(1) + [EIO_FRAME_RAW, 3] + list(b"4m\xff") + [EIO_FRAME_CLOSE])
    # Polling only: POSTs, a duplicate GET, an aborted GET, the client's close.
    yield bytes([0] + eio_send(1) + [EIO_GET, EIO_GET, EIO_GET] + eio_send(1))
    yield bytes([0] + eio_post("4hi", "3", "4") + [EIO_GET] + eio_send(2) + [EIO_GET, EIO_ABORT_GET])
    yield bytes([1] + eio_post("2", "4hi") + [EIO_GET, EIO_GET] + eio_post("1") + [EIO_GET])
    yield bytes([0, EIO_BEGIN_POST, 0, EIO_BEGIN_POST, 0, EIO_GET] + eio_send(1))
    yield bytes([0, EIO_POST_RAW, 0x13] + list(b"4\x1e") + [EIO_GET, EIO_ROUTE, 12]
                + eio_send(1) + [EIO_CLOSE_WITH, 0, EIO_GET])
    # Upgrades that fail: the timeout, a bad packet, the WebSocket closing, the session closing.
    yield bytes([0, EIO_GET, EIO_WEBSOCKET] + eio_send(1) + advance(10_000) + [EIO_GET]
                + eio_send(1) + [EIO_GET, EIO_WEBSOCKET] + eio_frame("2probe") + eio_frame("5"))
    yield bytes([0, EIO_WEBSOCKET] + eio_frame("2probe") + eio_frame("4hi") + eio_send(1)
                + [EIO_GET, EIO_WEBSOCKET, EIO_FRAME_CLOSE, EIO_GET])
    yield bytes([0, EIO_GET, EIO_WEBSOCKET] + eio_frame("2probe") + [EIO_GET] + eio_send(2)
                + [EIO_CLOSE, EIO_GET, EIO_ROUTE, 8])


# sio_server_connection: a header byte (bit 0: Socket.IO v4 over Engine.IO v3), then steps
# (see sio_fuzz_oracles::sio_server_connection). Step kinds and the client packet table:
SIO_CLIENT, SIO_CLIENT_RAW, SIO_ATTACHMENT, SIO_ACCEPT, SIO_REJECT = 0, 1, 2, 3, 4
SIO_EMIT, SIO_DISCONNECT, SIO_WAIT, SIO_ACK = 5, 6, 7, 8
PLACEHOLDER = '{"_placeholder":true,"num":0}'
SIO_PACKETS = ["0", "0/a,", '0/a,{"t":1}', "1", "1/a,", '2["e",1]', '2/a,3["e"]', '3/a,0["r"]',
               '30["r"]', '31["r"]', '51-["b",' + PLACEHOLDER + "]", '4{"message":"x"}', "", "9",
               '2["connect"]', "0/a?x=1", '61-0["r",' + PLACEHOLDER + "]",
               '61-/a,1["r",' + PLACEHOLDER + "]", "0/b,", '2/b,["e"]']
ROOT_NS, A_NS, B_NS = 0, 1, 2
EMIT_ACK, EMIT_BINARY = 4, 8


def sio(packet):
    return [SIO_CLIENT, SIO_PACKETS.index(packet)]


def sio_wait(ms):
    return [SIO_WAIT] + list(ms.to_bytes(2, "big"))


def sio_server_connection():
    session = (
        [SIO_ACCEPT, ROOT_NS] + sio('2["e",1]')
        + [SIO_EMIT, ROOT_NS | EMIT_ACK] + sio('30["r"]') + sio('30["r"]')
        + sio('51-["b",' + PLACEHOLDER + "]") + [SIO_ATTACHMENT, 1, 0xAB]
        + [SIO_EMIT, ROOT_NS | EMIT_ACK | EMIT_BINARY] + sio('31["r"]')
        + [SIO_ACK, ROOT_NS, 1]
    )
    joined_a = sio("0/a,") + [SIO_ACCEPT, A_NS, SIO_EMIT, A_NS | EMIT_ACK, SIO_EMIT, A_NS | EMIT_ACK]
    yield bytes([0] + sio("0") + session + joined_a + sio('3/a,0["r"]') + sio("1/a,")
                + [SIO_DISCONNECT, ROOT_NS] + sio_wait(60_000))
    yield bytes([1] + session + sio("0/a?x=1") + [SIO_ACCEPT, A_NS, SIO_EMIT, A_NS | EMIT_ACK]
                + sio('61-/a,1["r",' + PLACEHOLDER + "]") + [SIO_ATTACHMENT, 0])
    # The connect timeout, with and without a join in time.
    yield bytes([0] + sio_wait(45_000) + sio("0") + [SIO_ACCEPT, ROOT_NS])
    yield bytes([0] + sio_wait(44_000) + sio("0") + [SIO_ACCEPT, ROOT_NS] + sio_wait(60_000)
                + [SIO_DISCONNECT, ROOT_NS] + sio_wait(60_000))
    # Protocol errors and rejections.
    yield bytes([0] + sio('2["e",1]') + [SIO_EMIT, ROOT_NS])
    yield bytes([0] + sio("0") + [SIO_REJECT, ROOT_NS] + sio("0/b,") + [SIO_ACCEPT, B_NS]
                + sio('2/b,["e"]') + sio("0/b,"))
    yield bytes([1, SIO_ACCEPT, ROOT_NS, SIO_CLIENT_RAW, 4] + list(b"2[\"x") + sio('2["e",1]'))
    yield bytes([0] + sio("0") + [SIO_ACCEPT, ROOT_NS, SIO_ATTACHMENT, 0])
    # An ack pending when the server leaves the namespace is not heard after a rejoin.
    yield bytes([0] + sio("0") + [SIO_ACCEPT, ROOT_NS, SIO_EMIT, ROOT_NS | EMIT_ACK,
                                  SIO_DISCONNECT, ROOT_NS] + sio("0") + [SIO_ACCEPT, ROOT_NS]
                + sio('30["r"]'))


# eio_client_session: a header byte (bit 0 v3, bit 1 opened over WebSocket, bit 2 b64, bit 3 no
# upgrade, bit 4 against the real server session), then steps (see
# sio_fuzz_oracles::eio_client_session). Arbitrary answers: step kinds and the server table.
EC_GET, EC_GET_RAW, EC_POST, EC_FAIL, EC_WS_OPEN, EC_WS_FAIL = 0, 1, 2, 3, 4, 5
EC_FRAME, EC_FRAME_RAW, EC_ADVANCE, EC_SEND, EC_CLOSE = 6, 7, 8, 9, 10
EC_PACKETS = [
    '0{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}',
    '0{"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":16}',
    '0{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}',
    '0{"sid":"t","upgrades":["websocket"],"pingInterval":1,"pingTimeout":0,"maxPayload":0}',
    "0{}", "3probe", "2", "3", "1", "4hi", "4", "6", "5", "2probe", "b4AQI=", "bAQI=", "7", "",
    "40", "4m0", "2x", "3x", "0", "4\u00e9"]
OPEN_V4, OPEN_SMALL, OPEN_V3, OPEN_ZERO, OPEN_BAD = 0, 1, 2, 3, 4
# Against the real server: step kinds.
ES_REQUEST, ES_ANSWER, ES_WS, ES_WS_BREAK, ES_TO_SERVER, ES_TO_CLIENT = 0, 1, 2, 3, 4, 5
ES_ADVANCE, ES_CLIENT_SEND, ES_SERVER_SEND, ES_CLOSE = 6, 7, 8, 9


def ec_get(*indices):
    return [EC_GET, len(indices) - 1] + list(indices)


def ec_frame(packet):
    return [EC_FRAME, EC_PACKETS.index(packet)]


def ec_advance(ms):
    return [EC_ADVANCE] + list(ms.to_bytes(2, "big"))


def ec_send(count, binary=False):
    return [EC_SEND, (count - 1) | (4 if binary else 0)]


def eio_client_session():
    p = EC_PACKETS.index
    for header, open_packet in ((0, OPEN_V4), (1, OPEN_V3), (5, OPEN_V3)):
        # The upgrade: messages before, during (the probe, the pause) and after it.
        yield bytes([header] + ec_get(open_packet) + ec_send(2) + [EC_POST, 0]
                    + ec_get(p("4hi"), p("2")) + ec_send(1, True) + [EC_WS_OPEN] + ec_send(1)
                    + ec_frame("3probe") + ec_send(2) + [EC_POST, 0] + ec_get(p("6"))
                    + ec_send(1) + ec_frame("2") + ec_frame("4hi") + ec_advance(20_000)
                    + ec_frame("3") + ec_send(1) + [EC_CLOSE])
        # Polling only: the heartbeat, a timeout, the server's close.
        yield bytes([header | 8] + ec_get(open_packet, p("4hi")) + ec_send(3) + ec_get(p("2"))
                    + [EC_POST, 0] + ec_advance(30_000) + ec_get(p("3"), p("1")) + ec_send(1))
        yield bytes([header] + ec_get(open_packet) + ec_advance(50_000) + ec_advance(50_000))
        # A failed upgrade: a wrong probe answer, the WebSocket failing, then a client close.
        yield bytes([header] + ec_get(open_packet) + [EC_WS_OPEN] + ec_send(1) + ec_frame("4hi")
                    + [EC_POST, 0] + ec_get(p("4")) + ec_send(1) + [EC_CLOSE, EC_POST, 0,
                                                                   EC_POST, 0])
        yield bytes([header] + ec_get(open_packet) + [EC_WS_FAIL] + ec_send(1) + [EC_FAIL, 1])
        # Opened over WebSocket.
        yield bytes([header | 2, EC_WS_OPEN] + ec_send(1) + ec_frame(EC_PACKETS[open_packet])
                    + ec_send(2) + ec_frame("2") + ec_frame("4hi") + [EC_FRAME_RAW, 0x13, 4, 1, 2]
                    + ec_advance(40_000) + ec_frame("1"))
        yield bytes([header | 2, EC_WS_OPEN] + ec_frame(EC_PACKETS[open_packet]) + ec_send(1)
                    + [EC_FRAME_RAW, 2] + list(b"4\xff") + [EC_CLOSE])
    # v4 splits its POSTs at a small maxPayload; a client close ends with a last POST.
    yield bytes([0] + ec_get(OPEN_SMALL) + ec_send(4) + ec_send(4) + [EC_POST, 0, EC_POST, 0]
                + [EC_CLOSE, EC_POST, 0, EC_POST, 0, EC_POST, 0])
    # Timers at their smallest.
    yield bytes([1] + ec_get(OPEN_ZERO) + ec_send(1) + ec_advance(1) + ec_advance(1))
    # Bad handshakes and failures: a status, garbage, a bad open packet, a broken request.
    yield bytes([0, EC_GET_RAW, 4, 3] + list(b"abc"))
    yield bytes([1, EC_GET_RAW, 8, 5] + list(b"1:0{}x"))
    yield bytes([0] + ec_get(OPEN_BAD))
    yield bytes([0] + ec_get(OPEN_V4, p("")) + ec_send(1) + [EC_FAIL, 1, EC_FAIL, 0])
    yield bytes([1] + ec_get(OPEN_V3) + [EC_GET_RAW, 0x08, 6] + list(b"\x00\x01\xff4hi") + ec_send(1))
    # Against the real server: every interleaving the steps choose.
    rounds = [ES_REQUEST, ES_ANSWER, ES_WS, ES_TO_SERVER, ES_TO_CLIENT, ES_CLIENT_SEND, 1,
              ES_SERVER_SEND, 0, ES_REQUEST, ES_ANSWER, ES_TO_SERVER, ES_TO_CLIENT]
    for header in (16, 17, 21, 24, 25, 18, 19):
        yield bytes([header] + rounds * 6)
        yield bytes([header] + rounds * 3 + [ES_ADVANCE, 0x01, 0x00] + rounds * 2
                    + [ES_CLOSE, 0] + rounds)
        yield bytes([header] + rounds * 2 + [ES_ADVANCE, 0x03, 0x00] + rounds + [ES_CLOSE, 1]
                    + rounds)
        yield bytes([header] + rounds[:6] + [ES_WS_BREAK] + rounds * 2)


# sio_client_connection: a header byte (bit 0: Socket.IO v4 over Engine.IO 3), then steps (see
# sio_fuzz_oracles::sio_client_connection). Step kinds and the server packet table:
SC_PACKET, SC_RAW, SC_ATTACHMENT, SC_CONNECT, SC_EMIT, SC_ACK = 0, 1, 2, 3, 4, 5
SC_DISCONNECT, SC_NS_PACKET, SC_SERVER_ACK = 6, 7, 8
SC_PACKETS = ["0", '0{"sid":"x"}', '0/a,{"sid":"y"}', "0/a?x=1,", "1", '4{"message":"no"}',
              '4"not authorized"', '2["e",1]', '21["e"]', '30["r"]', '3["r"]',
              '51-["b",' + PLACEHOLDER + "]",
              '62-0[' + PLACEHOLDER + ',{"_placeholder":true,"num":1}]', "", "9", '2/b,["e"]']
NS_CONNECT, NS_CONNECT_ERROR, NS_DISCONNECT, NS_EVENT, NS_EVENT_ACK, NS_BINARY_EVENT = range(6)
WITH_AUTH, BAD_AUTH, SACK_BINARY, SACK_ANY = 4, 8, 4, 8


def sc_ns(ns, packet_type, extra=0):
    return [SC_NS_PACKET, ns | packet_type << 2 | extra << 5]


def sio_client_connection():
    for header in (0, 1):
        connect_root = ([SC_CONNECT, ROOT_NS] if header == 0 else []) + sc_ns(ROOT_NS, NS_CONNECT)
        yield bytes([header] + connect_root
                    + [SC_EMIT, ROOT_NS | EMIT_ACK, SC_EMIT, ROOT_NS | EMIT_ACK]
                    + [SC_SERVER_ACK, ROOT_NS, 1, SC_SERVER_ACK, ROOT_NS, 0]
                    + [SC_SERVER_ACK, ROOT_NS | SACK_ANY, 0]  # answered already: an error
                    + [SC_EMIT, ROOT_NS | EMIT_ACK | EMIT_BINARY, SC_SERVER_ACK, ROOT_NS | SACK_BINARY, 0]
                    + sc_ns(ROOT_NS, NS_EVENT_ACK, 2) + [SC_ACK, ROOT_NS, 2]
                    + sc_ns(ROOT_NS, NS_BINARY_EVENT) + [SC_ATTACHMENT, 1, 0xAB]
                    + [SC_CONNECT, A_NS | WITH_AUTH] + sc_ns(A_NS, NS_CONNECT)
                    + [SC_EMIT, A_NS | EMIT_ACK] + sc_ns(A_NS, NS_DISCONNECT)
                    + [SC_SERVER_ACK, A_NS | SACK_ANY, 0]
                    + [SC_CONNECT, A_NS] + sc_ns(A_NS, NS_CONNECT) + [SC_EMIT, A_NS | EMIT_ACK]
                    + [SC_DISCONNECT, ROOT_NS, SC_EMIT, ROOT_NS])
        # Refusals, events where they have no place, a parse error, calls after the close.
        yield bytes([header] + [SC_CONNECT, B_NS, SC_CONNECT, B_NS | BAD_AUTH]
                    + sc_ns(B_NS, NS_EVENT) + sc_ns(B_NS, NS_EVENT_ACK, 1)
                    + [SC_SERVER_ACK, B_NS | SACK_ANY, 0]  # not connected yet: errors
                    + sc_ns(B_NS, NS_CONNECT_ERROR) + sc_ns(B_NS, NS_EVENT)
                    + [SC_PACKET, SC_PACKETS.index('2/b,["e"]'), SC_EMIT, B_NS]
                    + connect_root + [SC_PACKET, SC_PACKETS.index('30["r"]')]
                    + [SC_ATTACHMENT, 1, 0] + [SC_EMIT, ROOT_NS, SC_CONNECT, A_NS])
        yield bytes([header] + connect_root + sc_ns(ROOT_NS, NS_BINARY_EVENT)
                    + sc_ns(ROOT_NS, NS_EVENT) + [SC_ATTACHMENT, 0])
        yield bytes([header, SC_RAW, 5] + list(b"2[\"x\"") + [SC_PACKET, 0, SC_PACKET, 1]
                    + [SC_PACKET, 4, SC_PACKET, 5, SC_PACKET, 14])
        # Binary packets with two attachments, and a namespace with a query.
        yield bytes([header] + connect_root + [SC_EMIT, ROOT_NS | EMIT_ACK]
                    + [SC_PACKET, SC_PACKETS.index('62-0[' + PLACEHOLDER + ',{"_placeholder":true,"num":1}]')]
                    + [SC_ATTACHMENT, 1, 1, SC_ATTACHMENT, 0]
                    + [SC_CONNECT, A_NS, SC_PACKET, SC_PACKETS.index("0/a?x=1,")])


TARGETS = {
    "eio_decode_text": eio_decode_text,
    "eio_decode_payload": eio_decode_payload,
    "sio_decode_text": sio_decode_text,
    "sio_reassemble": sio_reassemble,
    "sio_roundtrip_structured": sio_roundtrip_structured,
    "sio_json_validate": sio_json_validate,
    "eio_handshake_json": eio_handshake_json,
    "eio_server_session": eio_server_session,
    "sio_server_connection": sio_server_connection,
    "eio_client_session": eio_client_session,
    "sio_client_connection": sio_client_connection,
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
