#!/usr/bin/env python3
"""A hostile Engine.IO server for the runner's memory bounds (issue 13): it accepts any
WebSocket upgrade on 127.0.0.1:PORT, sends an Engine.IO v4 open packet, then floods text frames
as fast as the client reads them, for at most SECONDS per connection. Polling gets the same: a
handshake GET an open packet, every GET with a sid about 1 MB of message packets at once, a POST
`ok`. The frames are Engine.IO messages `4xxx…`, or with `sio` Socket.IO events
`42["flood","xxx…"]` (which Engine.IO-level cases skip while they wait).
Usage: flood-server.py PORT [SECONDS] [FRAME_BYTES] [eio|sio]"""
import base64, hashlib, os, socket, sys, threading, time

PORT = int(sys.argv[1])
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
FRAME = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
SIO = len(sys.argv) > 4 and sys.argv[4] == "sio"
MESSAGE = (b'42["flood","' + b"x" * FRAME + b'"]') if SIO else (b"4" + b"x" * FRAME)
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# The timers it announces (FLOOD_PING_INTERVAL, FLOOD_PING_TIMEOUT, in ms): long ones make the
# cases wait long while the flood goes on.
OPEN = ('0{"sid":"flood","upgrades":["websocket"],"pingInterval":%s,"pingTimeout":%s,'
        '"maxPayload":1000000}' % (os.environ.get("FLOOD_PING_INTERVAL", "300"),
                                   os.environ.get("FLOOD_PING_TIMEOUT", "200"))).encode()


def frame(text: bytes) -> bytes:
    n = len(text)
    if n < 126:
        head = bytes([0x81, n])
    elif n < 65536:
        head = bytes([0x81, 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x81, 127]) + n.to_bytes(8, "big")
    return head + text


def serve(conn: socket.socket) -> None:
    try:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        headers = {}
        for line in data.split(b"\r\n")[1:]:
            if b":" in line:
                k, v = line.split(b":", 1)
                headers[k.strip().lower()] = v.strip()
        key = headers.get(b"sec-websocket-key")
        if key is None:
            request_line = data.split(b"\r\n", 1)[0]
            if request_line.startswith(b"POST"):
                body = b"ok"
            elif b"sid=" in request_line:
                body = b"\x1e".join([MESSAGE] * max(1, (1 << 20) // (FRAME + 2)))
            else:
                body = OPEN
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                         b"Content-Length: " + str(len(body)).encode() +
                         b"\r\nConnection: close\r\n\r\n" + body)
            return
        accept = base64.b64encode(hashlib.sha1(key + GUID.encode()).digest())
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        conn.sendall(frame(OPEN))
        # Many frames per write: as fast as the client reads.
        burst = frame(MESSAGE) * max(1, 65536 // (FRAME + 10))
        end = time.monotonic() + SECONDS
        conn.setblocking(True)
        while time.monotonic() < end:
            conn.sendall(burst)
    except OSError:
        pass
    finally:
        conn.close()


def main() -> None:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", PORT))
    server.listen(64)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
