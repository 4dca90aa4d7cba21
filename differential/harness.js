#!/usr/bin/env node
"use strict";
// Differential testing of sio-codec against the JavaScript reference parsers.
// Usage: node harness.js --driver PATH [--seed S] [--count N] [--category GLOB]… [--report FILE]
// See README.md.

const fs = require("fs");
const path = require("path");
const { Rng } = require("./lib/prng");
const gen = require("./lib/gen");
const ref = require("./lib/reference");
const edge = require("./lib/edge");
const { mutateText, mutateBytes, mutateSioFrames } = require("./lib/mutate");
const { Driver } = require("./lib/driver");
const { compareDecode, compareFrames, deepEqual } = require("./lib/compare");
const { KnownDifferences, glob, hints } = require("./lib/known");
const site = require("./lib/site");
const { toBuf, showFrame, sioDecodeCase, sioEncodeCase, eioDecodeCase, eioPayloadDecodeCase, eioEncodeCase, eioPayloadEncodeCase, stackCase } = require("./lib/cases");

// ---------------------------------------------------------------------------------------
// Command line

function parseArgs(argv) {
  const args = { seed: "1", count: 3000, categories: [], driver: null, report: null, show: 5, known: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--seed") args.seed = next();
    else if (a === "--count") args.count = Number(next());
    else if (a === "--category") args.categories.push(next());
    else if (a === "--driver") args.driver = next();
    else if (a === "--report") args.report = next();
    else if (a === "--show") args.show = Number(next());
    else if (a === "--known") args.known = next();
    else if (a === "--help" || a === "-h") {
      console.log(fs.readFileSync(path.join(__dirname, "README.md"), "utf8").split("\n## ")[0]);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(args.count) || args.count < 0) throw new Error("--count must be a non-negative integer");
  if (!args.driver) throw new Error("--driver PATH is required (scripts/differential.sh builds it)");
  return args;
}

// ---------------------------------------------------------------------------------------
// Categories

const EIO_TOKENS = ["\u001e", "b", "b4", "4", "1:", "10:", "0:", ":", "2probe", "AQID", "=", "==", "!!", "0x", " "];

function sioValid(v) {
  return (rng, count, category) => {
    const cases = [];
    for (let i = 0; i < count; i++) {
      const opts = {
        loneSurrogates: rng.chance(0.01),
        deep: rng.chance(0.01) ? rng.pick([100, 126, 127, 128, 129, 130, 300]) : 0,
      };
      const p = gen.genSioPacket(rng, v === 4, opts);
      const wire = JSON.parse(ref.toWireJson(p)); // before encoding: parser 3.x mutates the packet
      const frames = ref.sioEncode(v, p);
      cases.push(sioDecodeCase(category, v, frames));
      cases.push(sioEncodeCase(category, v, p, wire, frames));
    }
    return cases;
  };
}

function sioMalformed(v) {
  return (rng, count, category) => {
    const cases = edge.SIO.map((frames) => sioDecodeCase(category, v, frames));
    for (let i = 0; i < count; i++) {
      const p = gen.genSioPacket(rng, v === 4, { loneSurrogates: rng.chance(0.005) });
      const frames = ref.sioEncode(v, p).map((f) => (typeof f === "string" ? f : toBuf(f)));
      cases.push(sioDecodeCase(category, v, mutateSioFrames(rng, frames)));
    }
    return cases;
  };
}

function eioValid(v) {
  return (rng, count, category) => {
    const cases = [];
    for (let i = 0; i < count; i++) {
      const p = gen.genEioPacket(rng, v === 3);
      const c = eioEncodeCase(category, v, p);
      cases.push(c);
      const [ws, text] = c.frames;
      cases.push(eioDecodeCase(category, v, ws));
      if (typeof ws !== "string" || ws !== text) cases.push(eioDecodeCase(category, v, text));
    }
    return cases;
  };
}

function eioPayloadValid(v) {
  return (rng, count, category) => {
    const cases = [];
    for (let i = 0; i < count; i++) {
      const packets = [];
      for (let n = rng.range(v === 3 ? 0 : 1, 6); n > 0; n--) packets.push(gen.genEioPacket(rng, v === 3, { noRS: v === 4 }));
      const binary = v === 3 && rng.chance(0.4);
      const body = v === 4 ? ref.eio4EncodePayload(packets) : ref.eio3EncodePayload(packets, binary);
      cases.push(eioPayloadEncodeCase(category, v, packets, binary, body));
      cases.push(eioPayloadDecodeCase(category, v, body));
    }
    return cases;
  };
}

function eioMalformed(v) {
  return (rng, count, category) => {
    const cases = edge.EIO_FRAMES.map((f) => eioDecodeCase(category, v, f));
    if (v === 4) cases.push(...edge.EIO4_PAYLOADS.map((b) => eioPayloadDecodeCase(category, v, b)));
    else cases.push(...[...edge.EIO3_TEXT_PAYLOADS, ...edge.EIO3_BINARY_PAYLOADS].map((b) => eioPayloadDecodeCase(category, v, b)));
    for (let i = 0; i < count; i++) {
      const what = rng.weighted([[35, "text"], [15, "binary"], [35, "payload"], [15, "xhr2"]]);
      if (what === "text" || what === "binary") {
        const p = gen.genEioPacket(rng, v === 3);
        const ws = ref.eioEncodePacket(v, p, true);
        const text = ref.eioEncodePacket(v, p, false);
        if (what === "binary" && typeof ws !== "string") cases.push(eioDecodeCase(category, v, mutateBytes(rng, toBuf(ws))));
        else cases.push(eioDecodeCase(category, v, mutateText(rng, typeof ws === "string" ? ws : text, EIO_TOKENS)));
      } else {
        const packets = [];
        for (let n = rng.range(1, 5); n > 0; n--) packets.push(gen.genEioPacket(rng, v === 3, { noRS: v === 4 }));
        if (v === 4 || what === "payload") {
          const body = v === 4 ? ref.eio4EncodePayload(packets) : ref.eio3EncodePayload(packets, false);
          cases.push(eioPayloadDecodeCase(category, v, mutateText(rng, body, EIO_TOKENS)));
        } else {
          cases.push(eioPayloadDecodeCase(category, v, mutateBytes(rng, ref.eio3EncodePayload(packets, true))));
        }
      }
    }
    return cases;
  };
}

/** Socket.IO packets carried by Engine.IO, decoded by `conformance decode` as a whole. */
function stack(v) {
  const sioV = v === 4 ? 5 : 4;
  return (rng, count, category) => {
    const cases = [];
    for (const frames of v === 4 ? edge.STACK4 : edge.STACK3) cases.push(stackCase(category, v, { frames }));
    for (const body of v === 4 ? edge.STACK4_PAYLOADS : edge.STACK3_PAYLOADS) cases.push(stackCase(category, v, { payload: true, body }));
    for (let i = 0; i < count; i++) {
      const p = gen.genSioPacket(rng, sioV === 4, {});
      const sframes = ref.sioEncode(sioV, p).map((f) => (typeof f === "string" ? f : toBuf(f)));
      const messages = sframes.map((f) => ({ type: "message", data: f }));
      if (rng.chance(0.1)) messages.splice(rng.range(0, messages.length), 0, rng.pick([{ type: "ping" }, { type: "noop" }, { type: "pong", data: "probe" }]));
      const transport = rng.weighted([[45, "ws"], [35, "polling"], [v === 3 ? 20 : 0, "xhr2"]]);
      const mutate = rng.chance(0.5);
      if (transport === "ws") {
        let frames = messages.map((m) => ref.eioEncodePacket(v, m, true)).map((f) => (typeof f === "string" ? f : toBuf(f)));
        if (mutate) {
          const k = rng.int(frames.length);
          frames = frames.slice();
          frames[k] = typeof frames[k] === "string" ? mutateText(rng, frames[k]) : mutateBytes(rng, frames[k]);
          if (rng.chance(0.2)) frames = mutateSioFrames(rng, frames);
        }
        cases.push(stackCase(category, v, { frames }));
      } else {
        let body = v === 4 ? ref.eio4EncodePayload(messages) : ref.eio3EncodePayload(messages, transport === "xhr2");
        if (mutate) body = typeof body === "string" ? mutateText(rng, body, EIO_TOKENS) : mutateBytes(rng, body);
        cases.push(stackCase(category, v, { payload: true, body }));
      }
    }
    return cases;
  };
}

const CATEGORIES = {
  "sio5-valid": sioValid(5),
  "sio4-valid": sioValid(4),
  "sio5-malformed": sioMalformed(5),
  "sio4-malformed": sioMalformed(4),
  "eio4-valid": eioValid(4),
  "eio3-valid": eioValid(3),
  "eio4-payload-valid": eioPayloadValid(4),
  "eio3-payload-valid": eioPayloadValid(3),
  "eio4-malformed": eioMalformed(4),
  "eio3-malformed": eioMalformed(3),
  "stack4": stack(4),
  "stack3": stack(3),
};

// ---------------------------------------------------------------------------------------
// Running and reporting

function describeInput(input) {
  const parts = [];
  if (input.frames) parts.push(`frames: ${input.frames.map(showFrame).join(" + ")}`);
  if (input.frame !== undefined) parts.push(`frame: ${showFrame(input.frame)}`);
  if (input.body !== undefined) parts.push(`body: ${showFrame(input.body)}`);
  if (input.packet !== undefined) parts.push(`packet: ${JSON.stringify(input.packet)}`);
  if (input.packets !== undefined) parts.push(`packets (${input.format}): ${JSON.stringify(input.packets)}`);
  return parts.join("; ");
}

/** Where a divergence happens (lib/site.js), for the report. */
function describeSite(s) {
  if (!s.unit) return s.direction;
  const parts = [s.direction];
  if (s.index !== null) parts.push(`unit ${s.index} (${s.unit.kind}${s.unit.broken ? ", broken framing" : ""})`);
  else parts.push(s.unit.kind);
  if (s.offset !== null && s.offset !== undefined) parts.push(`our error at byte ${s.offset} of the unit`);
  if (s.packet !== null && s.packet !== undefined) parts.push(`packet ${s.packet}${s.confined ? "" : ", not confined to the unit"}`);
  return parts.join(", ");
}

function jsonish(v) {
  const s = JSON.stringify(v);
  return s && s.length > 600 ? s.slice(0, 600) + "…" : s;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const known = new KnownDifferences(args.known);
  const driver = new Driver(args.driver);
  const names = Object.keys(CATEGORIES).filter((n) => !args.categories.length || args.categories.some((g) => glob(g, n)));
  if (!names.length) throw new Error(`no category matches ${args.categories.join(", ")}`);
  const started = Date.now();
  const rows = [];
  const failures = [];
  const explained = {};
  /** Differences left when an entry's switch is on, explained by another entry. */
  const afterSwitch = {};
  let passed = 0;
  let failed = 0;

  for (const name of names) {
    const rng = new Rng(`${args.seed}/${name}`);
    const cases = CATEGORIES[name](rng, args.count, name);
    const replies = driver.run(cases.map((c) => c.request));
    const row = { category: name, compared: cases.length, agree: 0, explained: 0, failed: 0 };
    const toVerify = [];
    cases.forEach((c, i) => {
      const reply = replies[i];
      const d = c.check === "encode" ? compareFrames(c.js, reply) : compareDecode(c.js, reply, { prefix: c.prefix, frameIndex: c.frameIndex });
      if (!d) {
        row.agree++;
        return;
      }
      const entry = known.match(c, d);
      if (entry) {
        known.hits[entry.id]++;
        row.explained++;
        explained[entry.id] = explained[entry.id] || { count: 0, example: null };
        explained[entry.id].count++;
        if (!explained[entry.id].example) explained[entry.id].example = { category: name, input: describeInput(c.input) };
        if (entry.switch && c.request.op !== "cli_decode" && c.check === "decode") toVerify.push({ c, entry, d });
        return;
      }
      row.failed++;
      failures.push({ c, d, reply, hints: hints(c) });
    });
    // An explained difference that names a DecodeConfig switch must disappear with the
    // switches on (all of the allow-list's switches: one input may need two of them).
    if (toVerify.length) {
      const again = driver.run(toVerify.map(({ c }) => ({ ...c.request, cfg: known.allSwitches })));
      toVerify.forEach(({ c, entry }, i) => {
        const d2 = compareDecode(c.js, again[i], { prefix: c.prefix, frameIndex: c.frameIndex });
        // what is left must be another known difference, one without a switch
        const rest = d2 && known.match(c, d2, { withoutSwitch: true });
        if (rest) {
          afterSwitch[rest.id] = afterSwitch[rest.id] || { count: 0, example: null };
          afterSwitch[rest.id].count++;
          if (!afterSwitch[rest.id].example) afterSwitch[rest.id].example = { category: name, input: describeInput(c.input) };
        }
        if (d2 && !rest) {
          row.explained--;
          row.failed++;
          failures.push({ c, d: { ...d2, type: `switch ${JSON.stringify(entry.switch)} (${entry.id}) does not reproduce the reference: ${d2.type}` }, reply: again[i], hints: hints(c) });
        }
      });
    }
    passed += row.agree + row.explained;
    failed += row.failed;
    rows.push(row);
    console.log(`${name.padEnd(20)} ${String(row.compared).padStart(7)} compared  ${String(row.agree).padStart(7)} agree  ${String(row.explained).padStart(6)} known  ${String(row.failed).padStart(5)} failed`);
  }

  console.log("");
  const ids = Object.keys(explained);
  if (ids.length) {
    console.log("Known (documented, deliberate) differences seen:");
    for (const id of ids) console.log(`  ${id}: ${explained[id].count}  e.g. [${explained[id].example.category}] ${explained[id].example.input.slice(0, 160)}`);
    console.log("");
  }
  const left = Object.keys(afterSwitch);
  if (left.length) {
    console.log("Left with the switches on (re-run), explained by an entry without a switch:");
    for (const id of left) console.log(`  ${id}: ${afterSwitch[id].count}  e.g. [${afterSwitch[id].example.category}] ${afterSwitch[id].example.input.slice(0, 160)}`);
    console.log("");
  }

  if (failures.length) {
    // group by category + divergence type + our error kind, show a few of each
    const groups = new Map();
    for (const f of failures) {
      const key = `${f.c.category} | ${f.c.check} | ${f.d.type}${f.d.ourKind ? ` | ours: ${f.d.ourKind}` : ""}${f.d.jsError ? ` | js: ${f.d.jsError}` : ""}${f.d.diagnosis ? ` | ${f.d.diagnosis}` : f.hints ? ` | input: ${f.hints}` : ""}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(f);
    }
    console.log(`UNEXPLAINED DIVERGENCES (${failures.length}, ${groups.size} groups):`);
    for (const [key, list] of groups) {
      console.log(`\n* ${key}  (${list.length})`);
      for (const f of list.slice(0, args.show)) {
        console.log(`    input:     ${describeInput(f.c.input).slice(0, 700)}`);
        console.log(`    site:      ${describeSite(site.locate(f.c, f.d))}`);
        if (f.c.check === "encode") {
          console.log(`    reference: ${jsonish(f.c.js)}`);
          console.log(`    ours:      ${jsonish(f.reply)}`);
        } else {
          console.log(`    reference: ${jsonish({ packets: f.c.js.packets, error: f.c.js.error, pending: f.c.js.pending })}`);
          const r = f.reply;
          console.log(`    ours:      ${r.crash || r.input_error ? jsonish({ crash: r.crash, input_error: r.input_error }) : jsonish({ packets: r.packets, error: r.error, pending: r.pending })}`);
        }
      }
    }
    console.log("");
  }

  if (args.report) {
    fs.mkdirSync(path.dirname(path.resolve(args.report)), { recursive: true });
    fs.writeFileSync(
      args.report,
      JSON.stringify(
        {
          seed: args.seed,
          count: args.count,
          categories: rows,
          known: explained,
          known_after_switch: afterSwitch,
          failures: failures.map((f) => ({
            category: f.c.category,
            check: f.c.check,
            divergence: f.d.type,
            diagnosis: f.d.diagnosis || null,
            hints: f.hints || null,
            our_error: f.d.ourKind || null,
            site: describeSite(site.locate(f.c, f.d)),
            input: describeInput(f.c.input),
            reference: f.c.check === "encode" ? f.c.js : { packets: f.c.js.packets, error: f.c.js.error, pending: f.c.js.pending },
            ours: f.reply,
          })),
        },
        null,
        1
      )
    );
  }

  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`seed ${args.seed}, count ${args.count}/category, ${driver.requests} driver requests in ${driver.calls} runs, ${secs}s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

try {
  main();
} catch (e) {
  console.error(`differential harness error: ${e.stack || e}`);
  process.exitCode = 2;
}
