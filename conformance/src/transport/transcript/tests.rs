//! Tests of `transport::transcript`.

use super::*;
use std::time::Duration;

#[test]
fn jsonl_shape() {
    let start = Instant::now();
    let t = Transcript::starting_at(start);
    let at = start + Duration::from_micros(12_420);
    t.record(
        at,
        "ws",
        Dir::Rx,
        WireKind::WsText,
        WireData::Text("3probe".into()),
        None,
    );
    t.record(
        at + Duration::from_millis(1),
        "ws",
        Dir::Rx,
        WireKind::WsBinary,
        WireData::Bytes(Bytes::from_static(&[1, 2, 0xff])),
        None,
    );
    t.record(
        start,
        "poll",
        Dir::Tx,
        WireKind::HttpRequest,
        WireData::None,
        Some("GET /socket.io/?EIO=4&transport=polling".into()),
    );
    t.record(
        at + Duration::from_millis(2),
        "ws",
        Dir::Rx,
        WireKind::WsClose,
        WireData::None,
        Some("code=1005".into()),
    );
    let lines: Vec<String> = t.to_jsonl().lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            r#"{"t_ms":0.0,"conn":"poll","dir":"tx","kind":"http_req","detail":"GET /socket.io/?EIO=4&transport=polling"}"#,
            r#"{"t_ms":12.4,"conn":"ws","dir":"rx","kind":"ws_text","data":"3probe"}"#,
            r#"{"t_ms":13.4,"conn":"ws","dir":"rx","kind":"ws_binary","hex":"0102ff"}"#,
            r#"{"t_ms":14.4,"conn":"ws","dir":"rx","kind":"ws_close","detail":"code=1005"}"#,
        ]
    );
}

#[test]
fn text_rendering_escapes_and_truncates() {
    let start = Instant::now();
    let t = Transcript::starting_at(start);
    let at = start + Duration::from_micros(12_400);
    t.record(
        at,
        "ws",
        Dir::Rx,
        WireKind::WsText,
        WireData::Text("3probe".into()),
        None,
    );
    t.record(
        at,
        "poll",
        Dir::Rx,
        WireKind::HttpResponse,
        WireData::Text("4a\u{1e}4b\"".into()),
        Some("200 text/plain".into()),
    );
    t.record(
        at,
        "ws",
        Dir::Tx,
        WireKind::WsText,
        WireData::Text("x".repeat(300)),
        None,
    );
    t.record(
        at,
        "ws",
        Dir::Rx,
        WireKind::WsBinary,
        WireData::Bytes(Bytes::from(vec![0xab; 100])),
        None,
    );
    let text = t.render_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], r#"+12.4ms   ws   <- ws_text "3probe""#);
    assert_eq!(
        lines[1],
        r#"+12.4ms   poll <- http_resp 200 text/plain "4a\x1e4b\"""#
    );
    assert!(
        lines[2].ends_with(&format!("{}…(300 bytes)\"", "x".repeat(200))),
        "{}",
        lines[2]
    );
    assert!(lines[3].ends_with("…> (100 bytes)"), "{}", lines[3]);
}

#[test]
fn late_records_are_sorted_and_clones_share() {
    let start = Instant::now();
    let t = Transcript::starting_at(start);
    let t2 = t.clone();
    t.record(
        start + Duration::from_millis(5),
        "a",
        Dir::Note,
        WireKind::Note,
        WireData::None,
        None,
    );
    t2.record(
        start + Duration::from_millis(1),
        "b",
        Dir::Note,
        WireKind::Note,
        WireData::None,
        None,
    );
    let conns: Vec<String> = t.events().into_iter().map(|e| e.conn).collect();
    assert_eq!(conns, ["b", "a"]);
    assert_eq!(t.len(), 2);
}

fn small() -> Limits {
    Limits {
        head: 3,
        tail: 2,
        max_bytes: 1 << 20,
        max_data: 8,
        ..Limits::default()
    }
}

fn text(t: &Transcript, at: Instant, s: &str) {
    t.record(
        at,
        "ws",
        Dir::Rx,
        WireKind::WsText,
        WireData::Text(s.into()),
        None,
    );
}

#[test]
fn head_and_tail_are_kept_and_the_rest_counted() {
    let start = Instant::now();
    let t = Transcript::with_limits(start, small());
    for i in 0..100u64 {
        text(&t, start + Duration::from_millis(i), &format!("4m{i}"));
    }
    let events = t.events();
    assert_eq!(events.len(), 6);
    assert_eq!(t.len(), 6);
    let data: Vec<String> = events
        .iter()
        .map(|e| match &e.data {
            WireData::Text(s) => s.clone(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(&data[..3], ["4m0", "4m1", "4m2"]);
    assert_eq!(&data[4..], ["4m98", "4m99"]);
    // 95 left out: "4m3".."4m9" (7 × 3 bytes) and "4m10".."4m97" (88 × 4), plus "ws".
    assert_eq!(t.omitted(), (95, 7 * 5 + 88 * 6));
    assert!(
        data[3].starts_with("… 95 events, 563 B left out"),
        "{}",
        data[3]
    );
    // Every output shows the marker.
    assert!(t.render_text().contains("… 95 events, 563 B left out"));
    assert!(t.to_jsonl().contains("… 95 events, 563 B left out"));
}

#[test]
fn tail_is_bounded_by_bytes_too() {
    let start = Instant::now();
    let limits = Limits {
        head: 1000,
        tail: 1000,
        max_bytes: 100,
        max_data: 1000,
        ..Limits::default()
    };
    let t = Transcript::with_limits(start, limits);
    for i in 0..1000u64 {
        text(&t, start + Duration::from_millis(i), "0123456789");
    }
    // 12 bytes an event: 4 in the head (48 ≤ 50), 4 in the tail.
    assert_eq!(t.len(), 9);
    assert_eq!(t.omitted(), (992, 992 * 12));
}

#[test]
fn past_the_run_budget_a_case_keeps_its_first_events_cut_short() {
    let start = Instant::now();
    let limits = Limits {
        run_bytes: 0,
        ..Limits::default()
    };
    let t = Transcript::with_limits(start, limits);
    for i in 0..100u64 {
        text(&t, start + Duration::from_millis(i), &"y".repeat(5000));
    }
    let events = t.events();
    // The first 20, cut to 1 KiB, then the marker; no tail fits in a budget of 0.
    assert_eq!(events.len(), ALWAYS_KEPT + 1);
    assert_eq!(events[0].data, WireData::Text("y".repeat(1024)));
    assert_eq!(
        events[0].detail.as_deref(),
        Some("[data cut to 1024 of 5000 bytes]")
    );
    assert_eq!(t.omitted().0, 80);
}

#[test]
fn huge_data_is_cut_with_its_length_said() {
    let start = Instant::now();
    let t = Transcript::with_limits(start, small());
    text(&t, start, "héllo wörld, long text");
    t.record(
        start,
        "ws",
        Dir::Rx,
        WireKind::WsBinary,
        WireData::Bytes(Bytes::from(vec![7u8; 100])),
        Some("x".into()),
    );
    let events = t.events();
    assert_eq!(events[0].data, WireData::Text("héllo w".into()));
    assert_eq!(
        events[0].detail.as_deref(),
        Some("[data cut to 8 of 24 bytes]")
    );
    assert_eq!(events[1].data, WireData::Bytes(Bytes::from(vec![7u8; 8])));
    assert_eq!(
        events[1].detail.as_deref(),
        Some("x [data cut to 8 of 100 bytes]")
    );
}
