"use strict";
// Contract server ("contract v2", see docs/contract.md) on the legacy generation:
// socket.io 2.5.1 + engine.io 3.6.2, i.e. Engine.IO protocol v3 / Socket.IO protocol v4 only.
//
// One HTTP server, two protocol endpoints:
//   /socket.io/  socket.io 2.5.1 with namespaces "/", "/custom" and the middleware-guarded
//                "/guarded", each with every handler of contract §3.2 and §3.4, mapped onto the
//                Socket.IO v4 protocol (no CONNECT payload: the credential travels as a query
//                string inside the namespace, `40/guarded?token=let-me-in,`; see README.md,
//                "The v4 mapping");
//   /engine.io/  a raw engine.io 3.6.2 server that echoes every message (official Engine.IO v3
//                test suite).
// Anything else gets an empty 404.
//
// Configuration comes from the environment (see README.md). stdout carries exactly one line,
// `listening on http://HOST:PORT` (the bound port, so PORT=0 works); errors go to stderr.

const http = require("node:http");
const url = require("node:url");
const engineio = require("engine.io");
const socketio = require("socket.io");
// socket.io 2.x's Socket class: the only place where the namespace query of a CONNECT packet
// is visible on its own (see `namespaceQuery` below).
const SioSocket = require("socket.io/lib/socket");

function fail(message) {
  process.stderr.write(`contract server: ${message}\n`);
  process.exit(2);
}

function numberFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    fail(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const HOST = process.env.HOST || "127.0.0.1";
const PORT = numberFromEnv("PORT", 3000);
const PING_INTERVAL = numberFromEnv("PING_INTERVAL", 300);
const PING_TIMEOUT = numberFromEnv("PING_TIMEOUT", 200);
const MAX_HTTP_BUFFER_SIZE = numberFromEnv("MAX_HTTP_BUFFER_SIZE", 1e6);
// socket.io 2.x has no connect timeout: the main namespace is joined automatically when the
// Engine.IO session opens (Socket.IO protocol v4), so no session is ever "waiting for a
// CONNECT". The variable is validated for symmetry with the other contract apps and ignored.
numberFromEnv("CONNECT_TIMEOUT", 1000);
// ALLOW_EIO3 does not apply either: engine.io 3.x speaks only Engine.IO v3 (it ignores `EIO`).

if (!Number.isInteger(PORT) || PORT > 65535) fail(`PORT must be an integer 0..65535, got ${PORT}`);
for (const [name, value] of [["PING_INTERVAL", PING_INTERVAL], ["PING_TIMEOUT", PING_TIMEOUT]]) {
  // engine.io 3.x reads `opts.pingInterval || 25000`: 0 would silently become the default.
  if (value === 0) fail(`${name} must be positive with engine.io 3.x`);
}

// Options shared by both endpoints (the official suites' configuration). engine.io 3.x has no
// `cors` option: it answers polling requests with `Access-Control-Allow-Origin: *` when there is
// no Origin header, and reflects the Origin (plus `Access-Control-Allow-Credentials: true`)
// otherwise, which allows any origin. socket.io 2.x's default `origins: "*:*"` accepts every
// origin. A fresh object per endpoint: socket.io 2.x writes into the options it is given.
const engineOptions = () => ({
  pingInterval: PING_INTERVAL,
  pingTimeout: PING_TIMEOUT,
  maxHttpBufferSize: MAX_HTTP_BUFFER_SIZE,
  transports: ["polling", "websocket"],
});

const httpServer = http.createServer((_req, res) => {
  // Only reached for paths that neither /engine.io/ nor /socket.io/ claims.
  res.writeHead(404);
  res.end();
});

// --- /engine.io/: raw Engine.IO v3 echo ---------------------------------------------------------
// engine.io's attach() only intercepts requests and upgrades whose URL starts with its path
// and hands every other request to the listeners that were registered before it.
const eio = engineio.attach(httpServer, { ...engineOptions(), path: "/engine.io/" });
eio.on("connection", (socket) => {
  socket.on("message", (data) => {
    socket.send(data); // text stays text, binary stays binary
  });
});

// --- /socket.io/: Socket.IO contract handlers ---------------------------------------------------
// Attached second, so its engine sees every request first and passes on everything outside
// /socket.io/ (to the /engine.io/ listener, then to the 404 handler above).
const io = socketio(httpServer, { ...engineOptions(), path: "/socket.io" });

// The namespace query of the CONNECT packet (`40/custom?token=abc,` → `{token: "abc"}`), which
// is what the Socket.IO v4 protocol has instead of the v5 CONNECT payload (`handshake.auth`).
// socket.io 2.x parses it in Client#ondecoded, hands it to `new Socket(nsp, client, query)`,
// and there Socket#buildHandshake merges it into `socket.handshake.query` on top of the query
// of the Engine.IO handshake request. The merged object cannot be split again exactly (a key
// may be in both), so the query is recorded where it is still separate: the argument of
// buildHandshake. `{}` when the CONNECT had no query (and for the automatic CONNECT to "/").
const namespaceQueries = new WeakMap();
const buildHandshake = SioSocket.prototype.buildHandshake;
SioSocket.prototype.buildHandshake = function (query) {
  namespaceQueries.set(this, { ...(query || {}) });
  return buildHandshake.call(this, query);
};
const namespaceQuery = (socket) => ({ ...(namespaceQueries.get(socket) || {}) });

// The query of the HTTP request that opened the Engine.IO session (polling handshake GET or
// WebSocket upgrade), parsed as socket.io 2.x parses it for `handshake.query`.
const engineQuery = (socket) => ({ ...url.parse(socket.request.url, true).query });

function contractHandlers(socket) {
  // auth-echo (v4 mapping): the namespace query of the CONNECT comes back as the `auth` event.
  socket.emit("auth", namespaceQuery(socket));

  // sio-echo / binary-echo: `message` -> `message-back` with the same arguments.
  socket.on("message", (...args) => {
    socket.emit("message-back", ...args);
  });

  // sio-ack-echo: acknowledge `message-with-ack` with its own arguments.
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args); // no ack id requested: nothing to answer
  });

  // server-emit-with-ack: re-emit `request-ack` with the same arguments and an ack id (socket.io
  // 2.x: per-namespace counter starting at 0); the client's ACK arguments come back as `ack-back`.
  socket.on("request-ack", (...args) => {
    if (typeof args[args.length - 1] === "function") args.pop(); // a client ack id is ignored
    socket.emit("request-ack", ...args, (...ackArgs) => {
      socket.emit("ack-back", ...ackArgs);
    });
  });

  // server-disconnect: leave this namespace from the server side (`41` / `41/custom,`);
  // the Engine.IO session and the other namespaces stay open.
  socket.on("disconnect-me", () => {
    socket.disconnect();
  });

  // --- contract v2: server-API handlers (docs/contract.md §3.4) ---------------------------------
  // Every handler below only sends when a client asks. Arguments are passed on verbatim; a
  // trailing client ack callback is dropped (the handlers never acknowledge).
  const argsOf = (args) => (typeof args[args.length - 1] === "function" ? args.slice(0, -1) : args);

  // rooms: `join` / `leave` a room of this namespace, confirmed to the sender only once done
  // (socket.io-adapter 1.x updates its tables at once and calls back on the next tick).
  socket.on("join", (...args) => {
    const [room] = argsOf(args);
    if (typeof room !== "string") return;
    socket.join(room, () => socket.emit("joined", room));
  });
  socket.on("leave", (...args) => {
    const [room] = argsOf(args);
    if (typeof room !== "string") return;
    socket.leave(room, () => socket.emit("left", room));
  });
  // rooms: every member of the room (the sender only if it is a member) gets `room-message`.
  socket.on("emit-to-room", (...args) => {
    const [room, ...rest] = argsOf(args);
    if (typeof room !== "string") return;
    socket.nsp.to(room).emit("room-message", room, ...rest);
  });

  // broadcast: every socket of this namespace (the sender included) / all but the sender.
  socket.on("emit-all", (...args) => {
    socket.nsp.emit("all-message", ...argsOf(args));
  });
  socket.on("broadcast", (...args) => {
    socket.broadcast.emit("broadcast-message", ...argsOf(args));
  });

  // emit-to-socket: only the socket of this namespace whose id is the first argument (every
  // socket is in a room named after its id; in 2.x the id is the Engine.IO sid on "/" and
  // `<nsp>#<Engine.IO sid>` elsewhere, learnt with `whoami`).
  socket.on("emit-to", (...args) => {
    const [id, ...rest] = argsOf(args);
    if (typeof id !== "string") return;
    socket.nsp.to(id).emit("direct-message", ...rest);
  });

  // whoami: the socket id (v4 CONNECT replies carry no sid, so this is the only way to learn it).
  socket.on("whoami", () => {
    socket.emit("whoami-back", socket.id);
  });

  // handshake-echo (v4 mapping): the query of the Engine.IO handshake request, and this
  // namespace's CONNECT query as `auth`.
  socket.on("handshake", () => {
    socket.emit("handshake-back", { query: engineQuery(socket), auth: namespaceQuery(socket) });
  });

  // server-send: `socket.send(...)`, i.e. a `message` event with these arguments.
  socket.on("send-me", (...args) => {
    socket.send(...argsOf(args));
  });
}

io.on("connection", contractHandlers);
io.of("/custom").on("connection", contractHandlers);

// ns:/guarded: a namespace behind a middleware. A CONNECT whose namespace query carries the token
// (`40/guarded?token=let-me-in,`) is accepted (then the namespace has the handlers of "/"); any
// other CONNECT is refused: socket.io 2.x sends `err.data || err.message` as the ERROR payload,
// `44/guarded,"invalid credential"`.
const GUARDED_TOKEN = "let-me-in";
const guarded = io.of("/guarded");
guarded.use((socket, next) => {
  if (namespaceQuery(socket).token === GUARDED_TOKEN) next();
  else next(new Error("invalid credential"));
});
guarded.on("connection", contractHandlers);

// --- lifecycle ----------------------------------------------------------------------------------
httpServer.on("error", (err) => {
  process.stderr.write(`contract server: cannot listen on ${HOST}:${PORT}: ${err.message}\n`);
  process.exit(1);
});

httpServer.listen(PORT, HOST, () => {
  const { port } = httpServer.address();
  const host = HOST.includes(":") ? `[${HOST}]` : HOST;
  process.stdout.write(`listening on http://${host}:${port}\n`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  // Do not wait for slow clients: give the close a moment, then leave.
  setTimeout(() => process.exit(0), 1000).unref();
  eio.close(); // closes every /engine.io/ session
  // Closes the sockets of "/", every /socket.io/ Engine.IO session and the HTTP server.
  io.close(() => process.exit(0));
  if (typeof httpServer.closeAllConnections === "function") httpServer.closeAllConnections();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
