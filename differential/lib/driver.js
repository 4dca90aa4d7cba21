"use strict";
// Runs the Rust driver once per batch: NDJSON requests on stdin, one reply line each.

const { spawnSync } = require("child_process");

class Driver {
  constructor(path) {
    this.path = path;
    this.calls = 0;
    this.requests = 0;
  }

  /**
   * Sends `requests` (objects) and returns the parsed replies, in order. If the driver dies
   * (a panic in the codec, a stack overflow), the batch is bisected down to the requests
   * that kill it; those get `{"crash": "<stderr>"}` replies (reported as failures).
   */
  run(requests) {
    if (requests.length === 0) return [];
    this.requests += requests.length;
    return this.runBatch(requests);
  }

  runBatch(requests) {
    const input = requests.map((r) => JSON.stringify(r)).join("\n") + "\n";
    const res = spawnSync(this.path, [], { input, maxBuffer: 1 << 30, encoding: "utf8" });
    this.calls++;
    // EPIPE: the driver died before reading all of its input
    if (res.error && res.error.code !== "EPIPE") throw new Error(`driver ${this.path}: ${res.error.message}`);
    if (res.error || res.status !== 0) {
      if (requests.length === 1) {
        const panic = res.stderr.split("\n").find((l) => l.includes("panicked") || l.includes("overflow")) || "";
        const message = res.stderr.split("\n").slice(0, 3).join(" ").trim();
        return [{ crash: `driver died (status ${res.status}, signal ${res.signal}): ${message || panic}` }];
      }
      const half = Math.ceil(requests.length / 2);
      return [...this.runBatch(requests.slice(0, half)), ...this.runBatch(requests.slice(half))];
    }
    const lines = res.stdout.split("\n").filter((l) => l.length > 0);
    if (lines.length !== requests.length) {
      throw new Error(`driver answered ${lines.length} lines for ${requests.length} requests; stderr: ${res.stderr.slice(0, 2000)}`);
    }
    return lines.map((l) => JSON.parse(l));
  }
}

module.exports = { Driver };
