"""The behaviour contract (docs/contract.md, v2) on python-socketio 5.x + aiohttp.

Same environment as contract-apps/node-socketio: HOST, PORT (0: the OS picks one),
PING_INTERVAL / PING_TIMEOUT in milliseconds (rounded to whole seconds, see below),
MAX_HTTP_BUFFER_SIZE. Prints
`listening on http://HOST:PORT` once it accepts connections. Engine.IO echo at /engine.io/,
Socket.IO at /socket.io/ with the namespaces /, /custom and /guarded.
"""

import asyncio
import os
import sys
from urllib.parse import parse_qs

import engineio
import socketio
from aiohttp import web


def number(name, fallback):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return fallback
    try:
        value = float(raw)
    except ValueError:
        sys.exit(f"contract server: {name} must be a number, got {raw!r}")
    if value < 0:
        sys.exit(f"contract server: {name} must be non-negative, got {raw!r}")
    return value


HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(number("PORT", 3000))
# python-engineio announces its timers in whole seconds (a 0.3 s interval would be announced
# as 0 ms), so the milliseconds are rounded to seconds, at least 1.
PING_INTERVAL = max(1, round(number("PING_INTERVAL", 1000) / 1000))
PING_TIMEOUT = max(1, round(number("PING_TIMEOUT", 1000) / 1000))
MAX_HTTP_BUFFER_SIZE = int(number("MAX_HTTP_BUFFER_SIZE", 1e6))
GUARDED_TOKEN = "let-me-in"
NAMESPACES = ["/", "/custom", "/guarded"]

common = dict(
    async_mode="aiohttp",
    ping_interval=PING_INTERVAL,
    ping_timeout=PING_TIMEOUT,
    max_http_buffer_size=MAX_HTTP_BUFFER_SIZE,
    cors_allowed_origins="*",
)
sio = socketio.AsyncServer(**common)
eio = engineio.AsyncServer(**common)
app = web.Application()
sio.attach(app, socketio_path="socket.io")
eio.attach(app, engineio_path="engine.io")


@eio.on("message")
async def eio_echo(sid, data):
    await eio.send(sid, data)  # text stays text, binary stays binary


def handlers(ns):
    """Registers the contract's handlers on namespace `ns`."""

    async def connect(sid, environ, auth):
        if ns == "/guarded" and not (isinstance(auth, dict) and auth.get("token") == GUARDED_TOKEN):
            raise socketio.exceptions.ConnectionRefusedError("invalid credential")
        auth = auth if auth is not None else {}
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        await sio.save_session(sid, {"auth": auth, "query": query}, namespace=ns)
        # After the CONNECT reply, which python-socketio sends when this handler returns.
        asyncio.get_running_loop().create_task(sio.emit("auth", auth, to=sid, namespace=ns))

    async def message(sid, *args):
        await sio.emit("message-back", args, to=sid, namespace=ns)

    async def message_with_ack(sid, *args):
        return args  # the ack, with the same arguments

    async def request_ack(sid, *args):
        async def acked(*ack_args):
            await sio.emit("ack-back", ack_args, to=sid, namespace=ns)

        await sio.emit("request-ack", args, to=sid, namespace=ns, callback=acked)

    async def disconnect_me(sid, *args):
        await sio.disconnect(sid, namespace=ns)

    async def join(sid, room=None, *args):
        if isinstance(room, str):
            await sio.enter_room(sid, room, namespace=ns)
            await sio.emit("joined", room, to=sid, namespace=ns)

    async def leave(sid, room=None, *args):
        if isinstance(room, str):
            await sio.leave_room(sid, room, namespace=ns)
            await sio.emit("left", room, to=sid, namespace=ns)

    async def emit_to_room(sid, room=None, *rest):
        if isinstance(room, str):
            await sio.emit("room-message", (room, *rest), to=room, namespace=ns)

    async def emit_all(sid, *args):
        await sio.emit("all-message", args, namespace=ns)

    async def broadcast(sid, *args):
        await sio.emit("broadcast-message", args, namespace=ns, skip_sid=sid)

    async def emit_to(sid, target=None, *rest):
        if isinstance(target, str):
            await sio.emit("direct-message", rest, to=target, namespace=ns)

    async def whoami(sid, *args):
        await sio.emit("whoami-back", sid, to=sid, namespace=ns)

    async def handshake(sid, *args):
        session = await sio.get_session(sid, namespace=ns)
        await sio.emit("handshake-back", session, to=sid, namespace=ns)

    async def send_me(sid, *args):
        await sio.emit("message", args, to=sid, namespace=ns)

    sio.on("connect", connect, namespace=ns)
    for event, handler in [
        ("message", message),
        ("message-with-ack", message_with_ack),
        ("request-ack", request_ack),
        ("disconnect-me", disconnect_me),
        ("join", join),
        ("leave", leave),
        ("emit-to-room", emit_to_room),
        ("emit-all", emit_all),
        ("broadcast", broadcast),
        ("emit-to", emit_to),
        ("whoami", whoami),
        ("handshake", handshake),
        ("send-me", send_me),
    ]:
        sio.on(event, handler, namespace=ns)


for namespace in NAMESPACES:
    handlers(namespace)


async def main():
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, HOST, PORT)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    host = f"[{HOST}]" if ":" in HOST else HOST
    print(f"listening on http://{host}:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
