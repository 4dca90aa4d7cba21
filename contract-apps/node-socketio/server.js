"use strict";
// Reference contract server ("contract v2", see docs/contract.md) for the conformance runner.
//
// One HTTP server, two protocol endpoints:
//   /socket.io/  socket.io 4.8.4 with the handlers of the official Socket.IO v5 test suite
//                (namespaces "/" and "/custom") plus `request-ack` and `disconnect-me`, and
//                the server-API handlers of contract v2 (rooms, broadcasts, emits to a socket
//                id, `whoami`, `handshake`, `send-me`) and the middleware-guarded "/guarded";
//   /engine.io/  a raw engine.io 6.6.12 server that echoes every message (official
//                Engine.IO v4/v3 test suites).
// Anything else gets an empty 404 (what `new socket.io.Server(port)` answers).
//
// Configuration comes from the environment (see README.md). stdout carries exactly one line,
// `listening on http://HOST:PORT` (the bound port, so PORT=0 works); errors go to stderr.

const http = require("node:http");
const engineio = require("engine.io");
const { Server } = require("socket.io");

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
const CONNECT_TIMEOUT = numberFromEnv("CONNECT_TIMEOUT", 1000);
const MAX_HTTP_BUFFER_SIZE = numberFromEnv("MAX_HTTP_BUFFER_SIZE", 1e6);
const ALLOW_EIO3 = process.env.ALLOW_EIO3 === "1";

if (!Number.isInteger(PORT) || PORT > 65535) fail(`PORT must be an integer 0..65535, got ${PORT}`);

// Options shared by both endpoints (the official suites' configuration).
const engineOptions = {
  pingInterval: PING_INTERVAL,
  pingTimeout: PING_TIMEOUT,
  maxHttpBufferSize: MAX_HTTP_BUFFER_SIZE,
  allowEIO3: ALLOW_EIO3,
  cors: { origin: "*" },
};

const httpServer = http.createServer((_req, res) => {
  // Only reached for paths that neither /engine.io/ nor /socket.io/ claims.
  res.writeHead(404);
  res.end();
});

// --- /engine.io/: raw Engine.IO echo -------------------------------------------------------
// engine.io's attach() only intercepts requests and upgrades whose URL starts with its path
// and hands every other request to the listeners that were registered before it.
const eio = engineio.attach(httpServer, { ...engineOptions, path: "/engine.io/" });
eio.on("connection", (socket) => {
  socket.on("message", (data) => {
    socket.send(data); // text stays text, binary stays binary
  });
});

// --- /socket.io/: Socket.IO contract handlers -----------------------------------------------
// Attached second, so its engine sees every request first and passes on everything outside
// /socket.io/ (to the /engine.io/ listener, then to the 404 handler above).
const io = new Server(httpServer, {
  ...engineOptions,
  path: "/socket.io",
  connectTimeout: CONNECT_TIMEOUT,
});

function contractHandlers(socket) {
  // auth-echo: the CONNECT payload (`40{"token":"123"}`) comes back as the `auth` event.
  socket.emit("auth", socket.handshake.auth);

  // sio-echo / binary-echo: `message` -> `message-back` with the same arguments.
  // (Identical to the official suite's handler.)
  socket.on("message", (...args) => {
    socket.emit("message-back", ...args);
  });

  // sio-ack-echo: acknowledge `message-with-ack` with its own arguments.
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args); // no ack id requested: nothing to answer
  });

  // server-emit-with-ack: re-emit `request-ack` with the same arguments and an ack id; the
  // client's ACK arguments come back as `ack-back`.
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

  // --- contract v2: server-API handlers (docs/contract.md §3.4) ------------------------------
  // Every handler below only sends when a client asks: the v1 cases, which expect exact packet
  // sequences, never see their traffic. Arguments are passed on verbatim; a trailing client ack
  // callback is dropped (the handlers never acknowledge).
  const argsOf = (args) => (typeof args[args.length - 1] === "function" ? args.slice(0, -1) : args);

  // rooms: `join` / `leave` a room of this namespace, confirmed to the sender only once done.
  socket.on("join", (...args) => {
    const [room] = argsOf(args);
    if (typeof room !== "string") return;
    Promise.resolve(socket.join(room)).then(() => socket.emit("joined", room));
  });
  socket.on("leave", (...args) => {
    const [room] = argsOf(args);
    if (typeof room !== "string") return;
    Promise.resolve(socket.leave(room)).then(() => socket.emit("left", room));
  });
  // rooms: every member of the room (the sender only if it is a member) gets `room-message`.
  socket.on("emit-to-room", (...args) => {
    const [room, ...rest] = argsOf(args);
    if (typeof room !== "string") return;
    socket.nsp.to(room).emit("room-message", room, ...rest);
  });

  // broadcast: `io.emit` (every socket of this namespace, the sender included) and
  // `socket.broadcast.emit` (every socket of this namespace except the sender).
  socket.on("emit-all", (...args) => {
    socket.nsp.emit("all-message", ...argsOf(args));
  });
  socket.on("broadcast", (...args) => {
    socket.broadcast.emit("broadcast-message", ...argsOf(args));
  });

  // emit-to-socket: only the socket of this namespace whose id is the first argument.
  socket.on("emit-to", (...args) => {
    const [id, ...rest] = argsOf(args);
    if (typeof id !== "string") return;
    socket.nsp.to(id).emit("direct-message", ...rest);
  });

  // whoami: the socket id (the `sid` of the CONNECT reply).
  socket.on("whoami", () => {
    socket.emit("whoami-back", socket.id);
  });

  // handshake-echo: the query parameters of the Engine.IO handshake request and the CONNECT
  // payload, as the server API exposes them to the application.
  socket.on("handshake", () => {
    socket.emit("handshake-back", {
      query: { ...socket.handshake.query },
      auth: socket.handshake.auth,
    });
  });

  // server-send: `socket.send(...)`, i.e. a `message` event with these arguments.
  socket.on("send-me", (...args) => {
    socket.send(...argsOf(args));
  });
}

io.on("connection", contractHandlers);
io.of("/custom").on("connection", contractHandlers);

// ns:/guarded: a namespace behind a middleware. A CONNECT whose payload carries the token
// `GUARDED_TOKEN` is accepted (then the namespace has the handlers of "/"); any other CONNECT
// is refused with CONNECT_ERROR `{"message":"invalid credential"}`.
const GUARDED_TOKEN = "let-me-in";
const guarded = io.of("/guarded");
guarded.use((socket, next) => {
  const auth = socket.handshake.auth;
  if (auth && auth.token === GUARDED_TOKEN) next();
  else next(new Error("invalid credential"));
});
guarded.on("connection", contractHandlers);

// --- lifecycle ------------------------------------------------------------------------------
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
  // Closes every Socket.IO session, its engine and the HTTP server.
  io.close(() => process.exit(0));
  if (typeof httpServer.closeAllConnections === "function") httpServer.closeAllConnections();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
