# Sourced by the scripts that start contract servers themselves (run-reference.sh,
# diff-servers.sh). `start_server NAME COMMAND...` starts COMMAND on 127.0.0.1 with the
# official suites' timers on a free port (PORT=0: the server prints the port it got), waits
# until it answers a handshake, and sets `url`. Every server started is stopped by its PID
# when the script exits.
server_pids=()
server_logs=()

stop_servers() {
  local pid
  for pid in "${server_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ "${#server_logs[@]}" -gt 0 ]; then rm -f "${server_logs[@]}"; fi
}
trap stop_servers EXIT

start_server() {
  local name=$1 log pid
  shift
  log=$(mktemp)
  server_logs+=("$log")
  echo "==> starting $name"
  env HOST=127.0.0.1 PORT=0 PING_INTERVAL=300 PING_TIMEOUT=200 CONNECT_TIMEOUT=1000 "$@" \
    >"$log" 2>&1 &
  pid=$!
  server_pids+=("$pid")
  url=""
  for _ in $(seq 1 300); do # readiness: at most 30 s
    url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$log" | head -n 1)
    if [ -n "$url" ] && curl -fsS -o /dev/null "$url/socket.io/?EIO=4&transport=polling"; then
      break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited:" >&2
      cat "$log" >&2
      exit 3
    fi
    url=""
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "$name did not become ready in 30 s:" >&2
    cat "$log" >&2
    exit 3
  fi
  echo "==> $name ready at $url (pid $pid)"
}
