//! Loader tests: a realistic suite, shape errors with lines, fragments, axis expansion, and
//! validation.

use std::path::Path;

use serde_json::json;

use super::*;
use crate::matcher::{Captures, MatchOutcome, Pattern, match_value};

const EXAMPLE: &str = r##"schema: conformance.fixture/v1
suite: eio4
title: Engine.IO v4
spec:
  base_url: https://github.com/socketio/socket.io/blob/d2d753fe/docs/engine.io-protocol/v4-current.md
defaults:
  path: /engine.io/
  heartbeat: auto
  transports: [polling, websocket]
  level: MUST
  step_timeout: 2s + ${slack}
  requires: [eio-echo]

fragments:
  open-polling:
    - id: handshake
      http: {method: GET, query: "EIO=4&transport=polling"}
      expect:
        status: 200
        headers: {content-type: {$starts_with: text/plain}}
        body:
          eio:
            - type: open
              data:
                $json:
                  $extra_keys: non-strict
                  sid: {$capture: sid, $type: string, $min_len: 1}
                  upgrades: {$type: array}
                  pingInterval: {$capture: ping_interval, $type: integer, $gt: 0}
                  pingTimeout: {$capture: ping_timeout, $type: integer, $gt: 0}
                  maxPayload: {$capture: max_payload, $type: integer, $gt: 0}

cases:
  - id: heartbeat/polling-ping-pong
    title: sends ping/pong packets
    official: ["heartbeat › HTTP long-polling › sends ping/pong packets"]
    spec: {anchor: "#heartbeat", quote: "the server sends a `ping` packet"}
    serial: true
    heartbeat: manual
    steps:
      - use: open-polling
      - repeat: 3
        steps:
          - id: ping
            http: {query: "EIO=4&transport=polling&sid=${sid}"}
            expect:
              status: 200
              body: {eio: [{type: ping}]}
              timing:
                since: previous
                max: "${ping_interval}ms + ${slack}"
                min: {at: "${ping_interval}ms - ${slack}", grade: non-strict}
          - http:
              method: POST
              query: "EIO=4&transport=polling&sid=${sid}"
              body: {eio: [{type: pong}]}
            expect: {status: 200, body: {text: ok}}

  - id: message/polling-duplicate-get
    title: closes the session upon duplicate poll requests
    official: "message › HTTP long-polling › closes the session upon duplicate poll requests"
    spec:
      - anchor: "#receiving-data"
        quote: To ensure packet ordering, a client MUST NOT have more than one active `GET` request.
      - eio4:polling.single-get
    serial: true
    steps:
      - use: open-polling
      - http: {query: "EIO=4&transport=polling&sid=${sid}", async: first}
      - sleep: 20ms
      - http: {query: "EIO=4&transport=polling&sid=${sid}&t=burst"}
        expect:
          one_of:
            - {status: 400}
            - status: 500
              grade: non-strict
              note: the Node reference answers 500; the official suite accepts 400 or 500
      - await: first
        expect: {status: 200, body: {eio: [{type: close}]}}
      - http: {query: "EIO=4&transport=polling&sid=${sid}"}
        expect: {status: 400}
        level: REFERENCE

  - id: message/echo
    title: sends and receives text and binary packets
    steps:
      - open: {conn: c, query: "EIO=4"}
        expect: {eio: {type: open, data: {$json: {sid: {$capture: sid, $type: string}, $extra_keys: allow}}}}
      - send: {conn: c, eio: {type: message, data: hello}}
      - expect: {conn: c, within: 1s, eio: {type: message, data: hello}}
      - send: {conn: c, eio: {type: message, data: {$bin: {hex: "01020304"}}}}
      - expect: {conn: c, eio: {type: message, data: {$bin: {base64: "AQIDBA=="}}}}
      - expect_none: {conn: c, for: "${slack}"}

  - id: handshake/websocket-invalid-eio
    title: fails with an invalid 'EIO' query parameter
    official: ["handshake › WebSocket › fails with an invalid 'EIO' query parameter"]
    steps:
      - ws_open: {conn: ws, query: "EIO=abc&transport=websocket"}
        expect: {rejected: true}

  - id: upgrade/polling-to-websocket
    title: successfully upgrades from HTTP long-polling to WebSocket
    steps:
      - use: open-polling
      - http: {query: "EIO=4&transport=polling&sid=${sid}", async: pending}
      - ws_open: {conn: ws, query: "EIO=4&transport=websocket&sid=${sid}"}
        expect: {status: 101}
      - send: {conn: ws, eio: {type: ping, data: probe}}
      - unordered:
          within: 2s
          steps:
            - expect: {conn: ws, eio: {type: pong, data: probe}}
            - await: pending
              expect: {status: 200, body: {eio: [{type: noop}]}}
      - send: {conn: ws, eio: {type: upgrade}}
      - send: {conn: ws, raw: {text: "4hello"}}
      - expect: {conn: ws, raw: {text: "4hello"}}
      - close: {conn: ws}
"##;

fn parse(text: &str) -> Result<Suite, FixtureError> {
    parse_suite(text, Path::new("t.yaml"), &LoadOptions::default())
}

/// The diagnostics of a fixture that must fail, rendered as `file:line:col: message`.
fn errors(text: &str) -> Vec<String> {
    match parse(text) {
        Ok(_) => panic!("fixture should not load:\n{text}"),
        Err(err) => err.diagnostics.iter().map(ToString::to_string).collect(),
    }
}

fn assert_error(text: &str, expected_prefix: &str, needle: &str) {
    let all = errors(text);
    assert!(
        all.iter()
            .any(|e| e.starts_with(expected_prefix) && e.contains(needle)),
        "expected `{expected_prefix}…{needle}…` in {all:#?}"
    );
}

/// A one-case suite whose steps are `steps` (indented by 6 spaces); its first step is on line 7.
fn one_case(steps: &str) -> String {
    format!(
        "schema: conformance.fixture/v1\nsuite: s\ncases:\n  - id: c\n    title: t\n    steps:\n{steps}"
    )
}

#[test]
fn example_suite_loads() {
    let suite = parse(EXAMPLE).unwrap();
    assert_eq!(suite.suite, "eio4");
    assert_eq!(suite.line, 2);
    assert_eq!(suite.title.as_deref(), Some("Engine.IO v4"));
    assert_eq!(suite.defaults.path.as_deref(), Some("/engine.io/"));
    assert_eq!(
        suite.defaults.transports,
        [Transport::Polling, Transport::Websocket]
    );
    assert_eq!(suite.fragments["open-polling"].line, 16);
    assert_eq!(suite.cases.len(), 5);
    let ids: Vec<&str> = suite.instances.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "eio4/heartbeat/polling-ping-pong",
            "eio4/message/polling-duplicate-get",
            "eio4/message/echo[transport=polling]",
            "eio4/message/echo[transport=websocket]",
            "eio4/handshake/websocket-invalid-eio",
            "eio4/upgrade/polling-to-websocket",
        ]
    );

    let ping_pong = suite.instance("eio4/heartbeat/polling-ping-pong").unwrap();
    assert_eq!(ping_pong.level, Level::Must);
    assert_eq!(ping_pong.heartbeat, Heartbeat::Manual);
    assert!(ping_pong.serial);
    assert_eq!(ping_pong.transport, None);
    assert_eq!(ping_pong.requires, ["eio4", "eio-echo"]);
    assert_eq!(
        ping_pong.official,
        ["heartbeat › HTTP long-polling › sends ping/pong packets"]
    );
    assert_eq!(ping_pong.line, 34);
    assert_eq!(
        ping_pong.step_timeout.as_ref().unwrap().as_str(),
        "2s + ${slack}"
    );
    assert!(matches!(&ping_pong.spec[0], SpecRef::Anchor { anchor, .. } if anchor == "#heartbeat"));
    // The fragment's step keeps its own line and records the `use` line.
    let handshake = &ping_pong.steps[0];
    assert_eq!(
        (handshake.line, handshake.included_from.as_slice()),
        (16, &[41][..])
    );
    assert_eq!(handshake.id.as_deref(), Some("handshake"));
    let Action::Repeat { times: 3, steps } = &ping_pong.steps[1].action else {
        panic!("{:?}", ping_pong.steps[1].action)
    };
    assert_eq!(steps[0].line, 44);
    let timing = steps[0].timing.as_ref().unwrap();
    assert_eq!(timing.since, Since::Previous);
    assert_eq!(timing.max.as_ref().unwrap().grade, Grade::Fail);
    assert_eq!(timing.min.as_ref().unwrap().grade, Grade::NonStrict);
    let Action::Http {
        request,
        expect: Some(expect),
    } = &steps[1].action
    else {
        panic!()
    };
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.target,
        Target::Query(
            crate::matcher::Template::parse("EIO=4&transport=polling&sid=${sid}").unwrap()
        )
    );
    assert!(
        matches!(&request.body, Some(RequestBody::Eio(packets)) if packets[0].kind == EioType::Pong)
    );
    assert!(matches!(&expect.body, Some(BodyExpect::Text(_))));

    let duplicate = suite
        .instance("eio4/message/polling-duplicate-get")
        .unwrap();
    assert_eq!(duplicate.spec.len(), 2);
    assert_eq!(
        duplicate.spec[1],
        SpecRef::Requirement("eio4:polling.single-get".into())
    );
    let Action::Http { request, .. } = &duplicate.steps[1].action else {
        panic!()
    };
    assert_eq!(request.async_id.as_deref(), Some("first"));
    let Action::Http {
        expect: Some(expect),
        ..
    } = &duplicate.steps[3].action
    else {
        panic!()
    };
    assert_eq!(expect.one_of.len(), 2);
    assert_eq!(expect.one_of[1].grade, Grade::NonStrict);
    assert!(
        expect.one_of[1]
            .note
            .as_deref()
            .unwrap()
            .contains("Node reference")
    );
    assert_eq!(duplicate.steps[5].level, Some(Level::Reference));

    let websocket = suite
        .instance("eio4/message/echo[transport=websocket]")
        .unwrap();
    assert_eq!(websocket.transport, Some(Transport::Websocket));
    assert_eq!(websocket.case_id, "eio4/message/echo");
    let Action::Send {
        payload: Outbound::Eio(packet),
        ..
    } = &websocket.steps[3].action
    else {
        panic!()
    };
    assert_eq!(packet.data, Some(EioData::Binary(vec![1, 2, 3, 4])));
    assert_eq!(websocket.steps[2].within.as_ref().unwrap().as_str(), "1s");

    let upgrade = suite.instance("eio4/upgrade/polling-to-websocket").unwrap();
    let Action::Unordered { steps } = &upgrade.steps[4].action else {
        panic!()
    };
    assert_eq!(steps.len(), 2);
    assert_eq!(upgrade.steps[4].within.as_ref().unwrap().as_str(), "2s");
}

#[test]
fn packet_patterns_match_engine_values() {
    let suite = parse(EXAMPLE).unwrap();
    let echo = suite
        .instance("eio4/message/echo[transport=polling]")
        .unwrap();
    let Action::Expect {
        expected: Inbound::Eio(packet),
        ..
    } = &echo.steps[4].action
    else {
        panic!()
    };
    let pattern = packet.to_pattern();
    let mut captures = Captures::new();
    let actual = json!({"type": "message", "data": crate::matcher::binary_value(&[1, 2, 3, 4])});
    assert_eq!(
        match_value(&pattern, &actual, &mut captures),
        MatchOutcome::Pass
    );
    // The envelope is strict: data where the pattern has none fails.
    let Action::Send { .. } = &echo.steps[1].action else {
        panic!()
    };
    let ping = EioPacketPattern {
        kind: EioType::Ping,
        data: None,
    };
    assert!(
        !match_value(
            &ping.to_pattern(),
            &json!({"type": "ping", "data": "probe"}),
            &mut captures
        )
        .passed()
    );
    assert!(match_value(&ping.to_pattern(), &json!({"type": "ping"}), &mut captures).passed());

    let Action::Open {
        expect: Some(handshake),
        ..
    } = &echo.steps[0].action
    else {
        panic!()
    };
    let actual =
        json!({"type": "open", "data": r#"{"sid":"abc","upgrades":[],"pingInterval":300}"#});
    assert!(match_value(&handshake.to_pattern(), &actual, &mut captures).passed());
    assert_eq!(captures.get("sid"), Some(&json!("abc")));
}

#[test]
fn socket_io_packets() {
    let text = one_case(concat!(
        "      - open: {conn: c}\n",
        "      - send:\n",
        "          conn: c\n",
        "          sio: {type: BINARY_EVENT, id: 789, data: [message-with-ack, {$bin: {hex: \"010203\"}}, {$bin: {base64: BAUG}}]}\n",
        "      - expect:\n",
        "          conn: c\n",
        "          sio: {type: BINARY_ACK, id: {$capture: ack}, data: [{$bin: {hex: \"010203\"}}, {$bin: {hex: \"040506\"}}]}\n",
        "      - send: {conn: c, sio: {type: ACK, nsp: /custom, id: \"${ack}\", data: [\"${ack}\"]}}\n",
    ));
    let suite = parse(&text).unwrap();
    assert_eq!(suite.instances.len(), 2);
    let steps = &suite.instances[0].steps;
    let Action::Send {
        payload: Outbound::Sio(packet),
        ..
    } = &steps[1].action
    else {
        panic!()
    };
    assert_eq!(packet.kind, SioType::BinaryEvent);
    assert_eq!(packet.nsp, "/");
    assert_eq!(packet.id, Some(json!(789)));
    assert_eq!(
        packet.data,
        Some(json!(["message-with-ack", {"$bin": "010203"}, {"$bin": "040506"}]))
    );
    let Action::Expect {
        expected: Inbound::Sio(pattern),
        ..
    } = &steps[2].action
    else {
        panic!()
    };
    let mut captures = Captures::new();
    let actual = json!({"type": "BINARY_ACK", "nsp": "/", "id": 789, "data": [{"$bin": "010203"}, {"$bin": "040506"}]});
    assert_eq!(
        match_value(&pattern.to_pattern(), &actual, &mut captures),
        MatchOutcome::Pass
    );
    let Action::Send {
        payload: Outbound::Sio(ack),
        ..
    } = &steps[3].action
    else {
        panic!()
    };
    let id = crate::matcher::interpolate_value(ack.id.as_ref().unwrap(), &captures).unwrap();
    assert_eq!(id, json!(789));
    assert_eq!(ack.nsp, "/custom");
}

#[test]
fn unknown_fields_are_errors_with_lines() {
    assert_error(
        &one_case("      - sleep: 1s\n        slep: 2s\n"),
        "t.yaml:8:9:",
        "unknown field `slep`",
    );
    assert_error(
        &one_case("      - http: {query: x, methd: GET}\n"),
        "t.yaml:7:",
        "unknown field `methd`",
    );
    assert_error(
        "schema: conformance.fixture/v1\nsuite: s\ncases: []\ndefauts: {}\n",
        "t.yaml:4:1:",
        "unknown field `defauts`",
    );
    assert_error(
        &one_case(
            "      - open: {conn: c}\n        expect: {eio: {type: open, data: {$json: {sid: {$tpye: string}}}}}\n",
        ),
        "t.yaml:8:",
        "unknown matcher `$tpye`",
    );
    assert_error(
        &one_case("      - sleep: 20\n"),
        "t.yaml:7:16:",
        "expected a unit",
    );
    assert_error(
        &one_case("      - http: {query: \"sid=${sid\"}\n"),
        "t.yaml:7:",
        "unterminated `${`",
    );
    assert_error(
        &one_case("      - open: {conn: c}\n      - send: {conn: c, eio: {type: mesage}}\n"),
        "t.yaml:8:",
        "unknown variant `mesage`",
    );
}

#[test]
fn yaml_hazards_are_closed() {
    // Aliases and duplicate keys are refused; `no` stays a string.
    assert_error(
        &one_case("      - &s {sleep: 1s}\n      - *s\n"),
        "t.yaml:8:",
        "YAML aliases are not allowed",
    );
    assert_error(
        &one_case("      - sleep: 1s\n        sleep: 2s\n"),
        "t.yaml:8:",
        "duplicate mapping key",
    );
    let suite = parse(&one_case(
        "      - open: {conn: c}\n      - expect: {conn: c, raw: {text: no}}\n",
    ))
    .unwrap();
    let Action::Expect {
        expected: Inbound::Text(pattern),
        ..
    } = &suite.instances[0].steps[1].action
    else {
        panic!()
    };
    assert_eq!(*pattern, Pattern::from_value(&json!("no")).unwrap());
}

#[test]
fn step_shape_errors() {
    assert_error(
        &one_case("      - sleep: 1s\n        use: x\n"),
        "t.yaml:7:",
        "exactly one action",
    );
    assert_error(
        &one_case("      - id: lonely\n"),
        "t.yaml:7:",
        "needs one action key",
    );
    assert_error(
        &one_case("      - sleep: 1s\n        expect: {status: 200}\n"),
        "t.yaml:7:",
        "cannot be combined with `sleep`",
    );
    assert_error(
        &one_case("      - open: {conn: c}\n      - expect: {eio: {type: ping}}\n"),
        "t.yaml:8:",
        "needs `conn`",
    );
    assert_error(
        &one_case("      - open: {conn: c}\n      - expect: {conn: c, status: 200}\n"),
        "t.yaml:8:",
        "`status` is not allowed in a connection `expect`",
    );
    assert_error(
        &one_case("      - http: {query: a}\n        expect: {status: 200, grade: non-strict}\n"),
        "t.yaml:7:",
        "`grade` is not allowed outside a `one_of` alternative",
    );
    assert_error(
        &one_case("      - http: {query: a}\n        expect: {rejected: true}\n"),
        "t.yaml:7:",
        "`rejected` is not allowed outside ws_open",
    );
    assert_error(
        &one_case("      - http: {query: a}\n        expect: {headers: {Content-Type: x}}\n"),
        "t.yaml:7:",
        "lower-case",
    );
    assert_error(
        &one_case("      - open: {conn: c}\n      - expect: {conn: c, raw: {text: 2}}\n"),
        "t.yaml:8:",
        "quote it",
    );
    assert_error(
        &one_case(
            "      - open: {conn: c}\n      - send: {conn: c, eio: {type: ping, data: {$bin: {hex: \"00\"}}}}\n",
        ),
        "t.yaml:8:",
        "only `message` packets carry binary",
    );
    assert_error(
        &one_case(
            "      - open: {conn: c}\n      - send: {conn: c, sio: {type: EVENT, data: [{$bni: {hex: \"00\"}}]}}\n",
        ),
        "t.yaml:8:",
        "unknown key `$bni`",
    );
    assert_error(
        &one_case("      - http: {query: a, async: p}\n        expect: {status: 200}\n"),
        "t.yaml:7:",
        "put it on the matching `await`",
    );
    assert_error(
        &one_case("      - repeat: 0\n        steps: [{sleep: 1s}]\n"),
        "t.yaml:7:",
        "at least 1",
    );
    assert_error(
        &one_case(
            "      - open: {conn: c}\n      - unordered: [{send: {conn: c, raw: {text: x}}}]\n",
        ),
        "t.yaml:8:",
        "only `expect` and `await`",
    );
    assert_error(
        &one_case("      - sleep: 1s\n        within: 2s\n"),
        "t.yaml:7:",
        "`within` is not allowed on a `sleep` step",
    );
    assert_error(
        &one_case(
            "      - open: {conn: c}\n      - expect: {conn: c, closed: true, within: 1s}\n        within: 2s\n",
        ),
        "t.yaml:8:",
        "both on the step and in its `expect`",
    );
}

#[test]
fn suite_level_errors() {
    assert_error(
        "schema: conformance.fixture/v2\nsuite: s\ncases: []\n",
        "t.yaml:1:9:",
        "unsupported schema",
    );
    let duplicate = "schema: conformance.fixture/v1\nsuite: s\ncases:\n  - {id: a, title: t, steps: [{sleep: 1s}]}\n  - {id: a, title: u, steps: [{sleep: 1s}]}\n";
    assert_error(
        duplicate,
        "t.yaml:5:",
        "duplicate case id `a` (first at line 4)",
    );
    assert_error(
        "schema: conformance.fixture/v1\nsuite: s\ncases:\n  - {id: 'a b', title: t, steps: []}\n",
        "t.yaml:4:",
        "must be a slug",
    );
    assert_error(
        "schema: conformance.fixture/v1\nsuite: s\ndefaults: {step_timeout: \"${x}ms\"}\ncases: []\n",
        "t.yaml:3:",
        "only use built-in variables",
    );
    assert_error(
        "schema: conformance.fixture/v1\nsuite: s\ncases:\n  - {id: a, title: t, transports: [polling], steps: [{sleep: 1s}]}\n",
        "t.yaml:4:",
        "no `open` step",
    );
}

#[test]
fn fragments_expand_recursively() {
    let text = "schema: conformance.fixture/v1\nsuite: s\nfragments:\n  a: [{sleep: 1ms}, {use: b}]\n  b: [{sleep: 2ms}]\ncases:\n  - id: c\n    title: t\n    steps:\n      - use: a\n      - repeat: 2\n        steps: [{use: b}]\n";
    let suite = parse(text).unwrap();
    let steps = &suite.instances[0].steps;
    let durations: Vec<&str> = steps
        .iter()
        .filter_map(|step| match &step.action {
            Action::Sleep { duration } => Some(duration.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(durations, ["1ms", "2ms"]);
    assert_eq!(steps[1].included_from, [10, 4]);
    let Action::Repeat { steps: body, .. } = &steps[2].action else {
        panic!()
    };
    assert_eq!(
        (body[0].line, body[0].included_from.as_slice()),
        (5, &[12][..])
    );
    // Cases keep `use` as written.
    assert!(matches!(suite.cases[0].steps[0].action, Action::Use { .. }));
}

#[test]
fn fragment_errors() {
    let cycle = "schema: conformance.fixture/v1\nsuite: s\nfragments:\n  a: [{use: b}]\n  b: [{sleep: 1ms}, {use: a}]\ncases:\n  - id: c\n    title: t\n    steps: [{use: a}]\n";
    assert_error(cycle, "t.yaml:5:", "fragment cycle: a -> b -> a");
    let this = "schema: conformance.fixture/v1\nsuite: s\nfragments:\n  a: [{use: a}]\ncases:\n  - id: c\n    title: t\n    steps: [{use: a}]\n";
    assert_error(this, "t.yaml:4:", "fragment cycle: a -> a");
    assert_error(
        &one_case("      - use: nope\n"),
        "t.yaml:7:",
        "unknown fragment `nope` (defined: none)",
    );
    assert_error(
        &one_case("      - use: x\n        id: y\n"),
        "t.yaml:7:",
        "`id` is not allowed on a `use` step",
    );
}

#[test]
fn transport_axis() {
    let text = "schema: conformance.fixture/v1\nsuite: sio5\ndefaults: {transports: [polling, websocket, upgrade]}\nfragments:\n  connect: [{open: {conn: c}}]\ncases:\n  - {id: a, title: t, steps: [{use: connect}]}\n  - {id: b, title: t, transports: [websocket], steps: [{open: {conn: c}}]}\n  - {id: c, title: t, steps: [{sleep: 1ms}]}\n";
    let suite = parse(text).unwrap();
    let ids: Vec<(&str, Option<Transport>)> = suite
        .instances
        .iter()
        .map(|instance| (instance.id.as_str(), instance.transport))
        .collect();
    assert_eq!(
        ids,
        [
            ("sio5/a[transport=polling]", Some(Transport::Polling)),
            ("sio5/a[transport=websocket]", Some(Transport::Websocket)),
            ("sio5/a[transport=upgrade]", Some(Transport::Upgrade)),
            ("sio5/b[transport=websocket]", Some(Transport::Websocket)),
            ("sio5/c", None),
        ]
    );
}

#[test]
fn eio_axis() {
    let text = r#"schema: conformance.fixture/v1
suite: sio
defaults: {transports: [polling, websocket], eio: [3, 4]}
fragments:
  connect:
    - open: {conn: c}
    - {when: {eio: 4}, send: {conn: c, sio: {type: CONNECT}}}
    - {when: {eio: [3, 4]}, expect: {conn: c, sio: {type: CONNECT}}}
cases:
  - {id: both, title: t, steps: [{use: connect}]}
  - id: v4-only
    title: t
    eio: [4]
    transports: [websocket]
    steps: [{use: connect}, {repeat: 2, steps: [{when: {eio: 4}, sleep: "${eio}ms"}]}]
  - {id: no-open, title: t, steps: [{when: {eio: 3}, sleep: 1ms}, {sleep: 2ms}]}
"#;
    let suite = parse(text).unwrap();
    let ids: Vec<(&str, u8, String)> = suite
        .instances
        .iter()
        .map(|instance| {
            (
                instance.id.as_str(),
                instance.eio,
                instance.requires.join(","),
            )
        })
        .collect();
    let expected = [
        ("sio/both[eio=3,transport=polling]", 3, "eio3,polling"),
        ("sio/both[eio=3,transport=websocket]", 3, "eio3,websocket"),
        ("sio/both[eio=4,transport=polling]", 4, "eio4,polling"),
        ("sio/both[eio=4,transport=websocket]", 4, "eio4,websocket"),
        // one revision: no `eio=` in the id
        ("sio/v4-only[transport=websocket]", 4, "eio4,websocket"),
        ("sio/no-open[eio=3]", 3, "eio3"),
        ("sio/no-open[eio=4]", 4, "eio4"),
    ];
    assert_eq!(
        ids,
        expected.map(|(id, eio, requires)| (id, eio, requires.to_owned()))
    );
    // `when` drops the CONNECT send on v3, children included.
    let lines = |id: &str| -> Vec<u64> {
        let mut lines = Vec::new();
        expand::walk(&suite.instance(id).unwrap().steps, &mut |step| {
            lines.push(step.line);
        });
        lines
    };
    assert_eq!(lines("sio/both[eio=3,transport=polling]"), [6, 8]);
    assert_eq!(lines("sio/both[eio=4,transport=polling]"), [6, 7, 8]);
    assert_eq!(lines("sio/v4-only[transport=websocket]"), [6, 7, 8, 15, 15]);
    assert_eq!(lines("sio/no-open[eio=3]"), [16, 16]);
    assert_eq!(lines("sio/no-open[eio=4]"), [16]);

    // Bad values, and a `when` of the case itself that can never hold.
    assert_error(
        "schema: conformance.fixture/v1\nsuite: s\ndefaults: {eio: [5]}\ncases: []\n",
        "t.yaml:2:",
        "Engine.IO revision 5 is not supported",
    );
    assert_error(
        &one_case("      - {when: {eio: []}, sleep: 1ms}\n"),
        "t.yaml:7:",
        "`when.eio` must not be empty",
    );
    assert_error(
        &one_case("      - {when: {eio: 3}, sleep: 1ms}\n"),
        "t.yaml:7:",
        "`when.eio` never holds",
    );
}
#[test]
fn validation_errors() {
    assert_error(
        &one_case("      - http: {query: \"sid=${sid}\"}\n"),
        "t.yaml:7:",
        "unknown variable `${sid}`",
    );
    assert_error(
        &one_case("      - await: first\n      - http: {query: a, async: first}\n"),
        "t.yaml:7:",
        "`await: first` has no earlier pending `http`",
    );
    assert_error(
        &one_case("      - http: {query: a, async: p}\n      - http: {query: b, async: p}\n"),
        "t.yaml:8:",
        "already pending (line 7)",
    );
    assert_error(
        &one_case("      - send: {conn: ws, raw: {text: x}}\n"),
        "t.yaml:7:",
        "connection `ws` is not opened",
    );
    assert_error(
        &one_case("      - open: {conn: c}\n      - close: {conn: d}\n"),
        "t.yaml:8:",
        "connection `d` is not opened by an earlier `open` or `ws_open` (open: c)",
    );
    assert_error(
        &one_case(
            "      - open: {conn: c}\n        expect: {eio: {type: open, data: {$capture: slack}}}\n",
        ),
        "t.yaml:7:",
        "overwrite a built-in",
    );
    assert_error(
        &one_case(
            "      - http: {query: a}\n        expect: {status: 200, timing: {since: later, max: 1s}}\n      - id: later\n        sleep: 1ms\n",
        ),
        "t.yaml:7:",
        "`timing.since: later` names no earlier step id",
    );
    assert_error(
        &one_case("      - sleep: \"${wait}ms\"\n"),
        "t.yaml:7:",
        "unknown variable `${wait}`",
    );
    // Siblings of an unordered group cannot see each other's captures.
    assert_error(
        &one_case(concat!(
            "      - open: {conn: c}\n",
            "      - unordered:\n",
            "          - expect: {conn: c, raw: {text: {$capture: a}}}\n",
            "          - expect: {conn: c, raw: {text: \"${a}\"}}\n",
        )),
        "t.yaml:10:",
        "unknown variable `${a}`",
    );
    // Errors inside fragments say which `use` brought them in.
    let via = "schema: conformance.fixture/v1\nsuite: s\nfragments:\n  f: [{send: {conn: c, raw: {text: x}}}]\ncases:\n  - id: c\n    title: t\n    steps: [{use: f}]\n";
    assert_error(via, "t.yaml:4:", "(via `use` at line 8)");
}

#[test]
fn validation_accepts_builtins_and_captures() {
    let text = one_case(concat!(
        "      - http: {url: \"/engine.io/?EIO=4&transport=polling&case=${case_id}\"}\n",
        "        expect: {status: 200, body: {text: {$capture: body}}}\n",
        "      - http: {query: \"x=${body}&engine=${engine_extra}\"}\n",
        "        within: \"${slack} + 1s\"\n",
    ));
    let options = LoadOptions {
        builtins: vec!["case_id".into(), "slack".into(), "engine_extra".into()],
    };
    parse_suite(&text, Path::new("t.yaml"), &options).unwrap();
    let err = parse(&text).unwrap_err();
    assert_eq!(err.diagnostics.len(), 1, "{err}");
    assert!(err.to_string().contains("${engine_extra}"));
}

#[test]
fn load_dir_sorts_and_checks_suite_names() {
    let dir = std::env::temp_dir().join(format!("scenario-load-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let suite = |name: &str| format!("schema: conformance.fixture/v1\nsuite: {name}\ncases: []\n");
    std::fs::write(dir.join("b.yaml"), suite("beta")).unwrap();
    std::fs::write(dir.join("a.yaml"), suite("alpha")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a fixture").unwrap();
    let suites = load_dir(&dir).unwrap();
    let names: Vec<&str> = suites.iter().map(|s| s.suite.as_str()).collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert_eq!(suites[0].file, dir.join("a.yaml"));

    std::fs::write(dir.join("c.yaml"), suite("alpha")).unwrap();
    std::fs::write(
        dir.join("d.yaml"),
        "schema: conformance.fixture/v1\nsuite: d\ncases: [{id: x}]\n",
    )
    .unwrap();
    let err = load_dir(&dir).unwrap_err();
    let messages: Vec<String> = err.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    let expected = format!(
        "c.yaml:2: suite `alpha` is already defined in {}",
        dir.join("a.yaml").display()
    );
    assert!(messages[0].ends_with(&expected), "{messages:#?}");
    assert!(
        messages[1].contains("d.yaml:3:") && messages[1].contains("missing field `title`"),
        "{messages:#?}"
    );
    assert!(
        err.diagnostics[1]
            .snippet
            .as_deref()
            .unwrap()
            .contains("cases: [{id: x}]")
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let err = load_suite(dir.join("missing.yaml")).unwrap_err();
    assert!(err.to_string().contains("cannot read fixture"));
}
