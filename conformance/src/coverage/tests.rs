use super::render::cell;
use super::*;
use crate::fixture::builtin::load_options;
use crate::fixture::parse_suite;

const CATALOGUE: &str = r##"
schema: conformance.spec-catalogue/v1
document: eio4
title: Engine.IO v4
source: {repo: socketio/socket.io, path: docs/engine.io-protocol/v4-current.md, commit: 13703dca}
url: https://example.test/v4-current.md
eio: 4
statements:
  - id: post.unknown-sid
    anchor: "#sending-data"
    level: MUST
    text: "The server MUST return an HTTP 400 response if the session ID is not known."
    mutants: [unknown-sid-ok]
  - id: get.unknown-sid
    anchor: "#receiving-data"
    level: MUST
    text: "The server MUST return an HTTP 400 response if the session ID is not known."
  - id: heartbeat.pong
    anchor: "#heartbeat"
    level: SHOULD
    text: "If the server does not receive a `pong` packet back, then it SHOULD consider that the connection is closed."
  - id: client.sid
    anchor: "#handshake"
    level: MUST
    text: "The client MUST send the `sid` value."
    observable: false
    reason: binds the client
"##;

/// The one instance of [`suite`].
const ONE: &str = "demo/one[transport=polling]";

fn catalogue() -> Catalogue {
    parse_catalogue(CATALOGUE).unwrap()
}

fn suite(spec: &str) -> Suite {
    let text = format!(
        r##"
schema: conformance.fixture/v1
suite: demo
spec: {{base_url: "https://github.com/socketio/socket.io/blob/d2d753fe/docs/socket.io-protocol/v5-current.md"}}
defaults: {{path: /engine.io/, transports: [polling]}}
cases:
  - id: one
    title: One
    official: ["a › b"]
    spec: {spec}
    steps:
      - open: {{conn: c}}
"##
    );
    parse_suite(&text, "demo.yaml".as_ref(), &load_options()).unwrap()
}

fn key(id: &str) -> (String, String) {
    ("eio4".to_owned(), id.to_owned())
}

#[test]
fn anchors_resolve_relative_to_the_base_url() {
    let base =
        "https://github.com/socketio/socket.io/blob/d2d753fe/docs/socket.io-protocol/v5-current.md";
    assert_eq!(
        resolve_anchor(Some(base), "#connect"),
        (
            Some("docs/socket.io-protocol/v5-current.md".to_owned()),
            "connect".to_owned()
        )
    );
    assert_eq!(
        resolve_anchor(
            Some(base),
            "/../../engine.io-protocol/v4-current.md#heartbeat"
        ),
        (
            Some("docs/engine.io-protocol/v4-current.md".to_owned()),
            "heartbeat".to_owned()
        )
    );
    assert_eq!(
        resolve_anchor(Some(base), "/../v4.md#acknowledgement")
            .0
            .as_deref(),
        Some("docs/socket.io-protocol/v4.md")
    );
    assert_eq!(resolve_anchor(None, "#x"), (None, "x".to_owned()));
}

#[test]
fn a_quote_containing_the_sentence_links_and_the_anchor_picks_among_equal_sentences() {
    let cat = [catalogue()];
    let quote = "To ensure   ordering. The server MUST return an HTTP 400 response if the session ID\n is not known.";
    let spec = SpecRef::Anchor {
        anchor: "/../../engine.io-protocol/v4-current.md#receiving-data".into(),
        quote: Some(quote.into()),
    };
    let base =
        "https://github.com/socketio/socket.io/blob/d2d753fe/docs/socket.io-protocol/v5-current.md";
    assert_eq!(
        target(&cat, Some(base), &spec),
        Target::Statements(vec![key("get.unknown-sid")])
    );
    // An anchor of neither section: both.
    let spec = SpecRef::Anchor {
        anchor: "/../../engine.io-protocol/v4-current.md#protocol".into(),
        quote: Some(quote.into()),
    };
    assert_eq!(
        target(&cat, Some(base), &spec),
        Target::Statements(vec![key("post.unknown-sid"), key("get.unknown-sid")])
    );
    // The same sentence in another document: nothing of this catalogue.
    let spec = SpecRef::Anchor {
        anchor: "#receiving-data".into(),
        quote: Some(quote.into()),
    };
    assert_eq!(target(&cat, Some(base), &spec), Target::Elsewhere);
}

#[test]
fn a_quote_of_a_catalogued_document_without_a_statement_is_unmatched() {
    let cat = [catalogue()];
    let spec = SpecRef::Anchor {
        anchor: "#heartbeat".into(),
        quote: Some("The server sends a `ping`.".into()),
    };
    let base =
        "https://github.com/socketio/socket.io/blob/d2d753fe/docs/engine.io-protocol/v4-current.md";
    assert_eq!(
        target(&cat, Some(base), &spec),
        Target::Unmatched {
            document: "eio4".into(),
            quote: "The server sends a `ping`.".into()
        }
    );
}

#[test]
fn requirement_ids_link_by_document_and_id() {
    let cat = [catalogue()];
    let by_id = |id: &str| target(&cat, None, &SpecRef::Requirement(id.into()));
    assert_eq!(
        by_id("eio4:heartbeat.pong"),
        Target::Statements(vec![key("heartbeat.pong")])
    );
    assert_eq!(
        by_id("eio4:heartbeat.typo"),
        Target::UnknownRequirement("eio4:heartbeat.typo".into())
    );
    assert_eq!(by_id("other:thing"), Target::Elsewhere);
    assert_eq!(by_id("no-colon"), Target::Elsewhere);
}

#[test]
fn instances_cover_statements_of_their_engine_io_revision_only() {
    let cat = [catalogue()];
    let s = suite("[eio4:heartbeat.pong]");
    let coverage = link(&cat, std::slice::from_ref(&s));
    assert_eq!(
        coverage.instances.get(&key("heartbeat.pong")),
        Some(&vec![ONE.to_owned()])
    );
    assert_eq!(
        coverage
            .official
            .get(&("demo".to_owned(), "a › b".to_owned())),
        Some(&vec![ONE.to_owned()])
    );
    let mut v3 = cat[0].clone();
    v3.eio = 3;
    let coverage = link(&[v3], &[s]);
    assert!(coverage.instances.is_empty());
}

#[test]
fn gaps_are_observable_musts_without_a_case_or_a_mutant() {
    let cat = [catalogue()];
    let coverage = link(&cat, &[suite("[eio4:post.unknown-sid]")]);
    let (no_case, no_mutant) = gaps(&cat, &coverage);
    assert_eq!(no_case, ["eio4:get.unknown-sid"]);
    assert_eq!(no_mutant, ["eio4:get.unknown-sid"]);
}

#[test]
fn errors_name_unknown_mutants_and_requirements() {
    let mut cat = catalogue();
    cat.statements[2].mutants = vec!["no-such-mutant".into()];
    let spec = Spec {
        catalogues: vec![cat],
        official: None,
    };
    let coverage = link(&spec.catalogues, &[suite("[eio4:nope]")]);
    let errors = errors(&spec, &coverage);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("no-such-mutant"));
    assert!(errors[1].contains("eio4:nope"));
}

#[test]
fn unproven_pairs_are_mutants_that_no_linked_instance_kills() {
    let spec = Spec {
        catalogues: vec![catalogue()],
        official: None,
    };
    let coverage = link(&spec.catalogues, &[suite("[eio4:post.unknown-sid]")]);
    let mut kills = BTreeMap::new();
    kills.insert(
        "unknown-sid-ok".to_owned(),
        BTreeSet::from([ONE.to_owned()]),
    );
    assert!(unproven_in(&spec, &coverage, &kills).is_empty());
    kills.insert(
        "unknown-sid-ok".to_owned(),
        BTreeSet::from(["demo/other".to_owned()]),
    );
    assert_eq!(unproven_in(&spec, &coverage, &kills).len(), 1);
    // Mutants that were not run are not judged.
    assert!(unproven_in(&spec, &coverage, &BTreeMap::new()).is_empty());
}

#[test]
fn catalogue_checks() {
    let bad = CATALOGUE.replace("reason: binds the client", "");
    assert!(parse_catalogue(&bad).unwrap_err().contains("reason"));
    let twice = CATALOGUE.replace("id: get.unknown-sid", "id: post.unknown-sid");
    assert!(parse_catalogue(&twice).unwrap_err().contains("twice"));
}

#[test]
fn the_shipped_catalogue_loads_and_links() {
    let spec = builtin_spec().unwrap();
    assert_eq!(
        spec.catalogues
            .iter()
            .map(|c| c.document.as_str())
            .collect::<Vec<_>>(),
        ["eio3", "eio4", "sio4", "sio5"]
    );
    let suites = crate::fixture::builtin::FixtureArgs::builtin()
        .load()
        .unwrap();
    let coverage = link(&spec.catalogues, &suites);
    assert_eq!(errors(&spec, &coverage), Vec::<String>::new());
}

#[test]
fn markdown_cells_escape_pipes_breaks_and_tags_outside_code() {
    assert_eq!(
        cell("<packet type>[<n>-] `a|<b>` x|y\nz"),
        "&lt;packet type&gt;[&lt;n&gt;-] `a\\|<b>` x\\|y<br>z"
    );
}
