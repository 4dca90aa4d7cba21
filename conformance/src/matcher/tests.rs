//! Matcher tests: every matcher passes and fails once, plus policies and capture handling.

use serde_json::{Value, json};

use super::*;

fn pat(value: Value) -> Pattern {
    Pattern::from_value(&value).unwrap()
}

fn outcome(pattern: Value, actual: Value) -> MatchOutcome {
    match_value(&pat(pattern), &actual, &mut Captures::new())
}

fn pass(pattern: Value, actual: Value) {
    let result = outcome(pattern.clone(), actual.clone());
    assert_eq!(result, MatchOutcome::Pass, "{pattern} vs {actual}");
}

fn fail(pattern: Value, actual: Value) -> Vec<Mismatch> {
    match outcome(pattern.clone(), actual.clone()) {
        MatchOutcome::Fail(mismatches) => mismatches,
        other => panic!("{pattern} vs {actual}: expected FAIL, got {other:?}"),
    }
}

#[test]
fn literals() {
    pass(json!(null), json!(null));
    fail(json!(null), json!(0));
    pass(json!(true), json!(true));
    fail(json!(true), json!("true"));
    pass(json!("hello"), json!("hello"));
    fail(json!("hello"), json!("hellO"));
    pass(
        json!([1, "2", {"3": [true]}]),
        json!([1, "2", {"3": [true]}]),
    );
    let mismatches = fail(json!([1, 2]), json!([1, 3]));
    assert_eq!(mismatches[0].path, "/1");
    assert_eq!(mismatches[0].expected, "2");
    assert_eq!(mismatches[0].actual, "3");
    let mismatches = fail(json!([1, 2]), json!([1, 2, 3]));
    assert!(mismatches[0].reason.contains("expected 2 elements, got 3"));
}

#[test]
fn numbers_are_normalised() {
    pass(json!(1), json!(1.0));
    pass(json!(1.0), json!(1));
    pass(json!(1_000_000), json!(1e6));
    fail(json!(1), json!(1.5));
    fail(json!(1), json!("1"));
    pass(json!({"$type": "integer"}), json!(300.0));
    fail(json!({"$type": "integer"}), json!(300.5));
}

#[test]
fn objects_and_extra_keys() {
    pass(json!({"a": 1}), json!({"a": 1}));
    let mismatches = fail(json!({"a": 1, "b": 2}), json!({"a": 1}));
    assert_eq!(mismatches[0].path, "/b");
    assert_eq!(mismatches[0].reason, "missing key");
    fail(json!({"a": 1}), json!([1]));
    // Default: extra keys grade NON-STRICT.
    match outcome(json!({"a": 1}), json!({"a": 1, "x": 2})) {
        MatchOutcome::NonStrict(notes) => {
            assert_eq!(notes[0].path, "/x");
            assert!(notes[0].message.contains("unexpected key `x`"));
        }
        other => panic!("{other:?}"),
    }
    pass(
        json!({"a": 1, "$extra_keys": "allow"}),
        json!({"a": 1, "x": 2}),
    );
    let mismatches = fail(
        json!({"a": 1, "$extra_keys": "forbid"}),
        json!({"a": 1, "x": 2}),
    );
    assert_eq!(
        (mismatches[0].path.as_str(), mismatches[0].reason.as_str()),
        ("/x", "unexpected key")
    );
    pass(json!({"a": 1, "$extra_keys": "forbid"}), json!({"a": 1}));
    // A binary leaf is not an object.
    fail(
        json!({"$bin": {"hex": "00"}, "$type": "object"}),
        binary_value(&[0]),
    );
}

#[test]
fn pointer_paths_are_escaped() {
    let mismatches = fail(json!({"a/b": {"c~d": 1}}), json!({"a/b": {"c~d": 2}}));
    assert_eq!(mismatches[0].path, "/a~1b/c~0d");
}

#[test]
fn type_matcher() {
    for (kind, good, bad) in [
        ("string", json!("x"), json!(1)),
        ("integer", json!(1), json!(1.5)),
        ("number", json!(1.5), json!("1")),
        ("boolean", json!(false), json!(0)),
        ("array", json!([]), json!({})),
        ("object", json!({}), json!([])),
        ("null", json!(null), json!(false)),
        ("binary", binary_value(b"ab"), json!("ab")),
    ] {
        pass(json!({"$type": kind}), good);
        fail(json!({"$type": kind}), bad);
    }
}

#[test]
fn capture_then_reuse_with_type() {
    let mut captures = Captures::new();
    let handshake = pat(json!({"$json": {
        "sid": {"$capture": "sid", "$type": "string", "$min_len": 1},
        "pingInterval": {"$capture": "ping_interval", "$type": "integer", "$gt": 0},
    }}));
    let actual = json!(r#"{"sid":"abc","pingInterval":300}"#);
    assert_eq!(
        match_value(&handshake, &actual, &mut captures),
        MatchOutcome::Pass
    );
    assert_eq!(captures.get("sid"), Some(&json!("abc")));
    assert_eq!(captures.get("ping_interval"), Some(&json!(300)));

    // Whole-string reference keeps the JSON type: 300 matches, "300" does not.
    let whole = pat(json!("${ping_interval}"));
    assert!(match_value(&whole, &json!(300), &mut captures).passed());
    assert!(!match_value(&whole, &json!("300"), &mut captures).passed());
    // Embedded reference interpolates.
    let embedded = pat(json!("sid=${sid}&n=${ping_interval}"));
    assert!(match_value(&embedded, &json!("sid=abc&n=300"), &mut captures).passed());
    assert!(!match_value(&embedded, &json!("sid=abd&n=300"), &mut captures).passed());
    // Unknown variable is a mismatch that names it.
    let MatchOutcome::Fail(mismatches) =
        match_value(&pat(json!("${nope}")), &json!(1), &mut captures)
    else {
        panic!("unknown variable must fail");
    };
    assert!(mismatches[0].reason.contains("${nope}"));
}

#[test]
fn captures_are_not_committed_on_failure() {
    let mut captures = Captures::new();
    let pattern = pat(json!({"sid": {"$capture": "sid"}, "n": 1}));
    let result = match_value(&pattern, &json!({"sid": "abc", "n": 2}), &mut captures);
    assert!(!result.passed());
    assert!(captures.is_empty());
    // match_parts: a passing part does not leak captures when another part fails.
    let status = pat(json!({"$capture": "status"}));
    let body = pat(json!("ok"));
    let result = match_parts(
        &[
            ("/status", &status, &json!(200)),
            ("/body", &body, &json!("nope")),
        ],
        &mut captures,
    );
    let MatchOutcome::Fail(mismatches) = result else {
        panic!()
    };
    assert_eq!(mismatches[0].path, "/body");
    assert!(captures.is_empty());
}

#[test]
fn one_of_commits_only_the_winning_branch() {
    let mut captures = Captures::new();
    let pattern = pat(json!({"$one_of": [
        {"kind": "a", "v": {"$capture": "from_a"}, "$extra_keys": "forbid"},
        {"kind": {"$capture": "from_b"}, "$extra_keys": "allow"},
    ]}));
    // First branch captures `from_a` then fails on the extra key: rolled back.
    let result = match_value(
        &pattern,
        &json!({"kind": "a", "v": 1, "extra": true}),
        &mut captures,
    );
    assert_eq!(result, MatchOutcome::Pass);
    assert!(!captures.contains("from_a"));
    assert_eq!(captures.get("from_b"), Some(&json!("a")));

    let mut captures = Captures::new();
    let result = match_value(&pattern, &json!({"kind": "a", "v": 1}), &mut captures);
    assert_eq!(result, MatchOutcome::Pass);
    assert!(captures.contains("from_a") && !captures.contains("from_b"));

    fail(json!({"$one_of": [1, 2]}), json!(3));
    pass(json!({"$one_of": [400, 500]}), json!(500));
}

#[test]
fn one_of_prefers_a_strict_pass() {
    let pattern = json!({"$one_of": [{"a": 1}, {"a": 1, "b": 2}]});
    pass(pattern, json!({"a": 1, "b": 2}));
    let pattern = json!({"$one_of": [{"a": 1}, {"z": 1}]});
    assert!(matches!(
        outcome(pattern, json!({"a": 1, "b": 2})),
        MatchOutcome::NonStrict(_)
    ));
}

#[test]
fn json_matcher() {
    pass(
        json!({"$json": {"sid": {"$type": "string"}}}),
        json!(r#"{"sid":"x"}"#),
    );
    let mismatches = fail(json!({"$json": {"sid": 1}}), json!(r#"{"sid":2}"#));
    assert_eq!(mismatches[0].path, "/$json/sid");
    let mismatches = fail(json!({"$json": {}}), json!("{not json"));
    assert!(mismatches[0].reason.starts_with("invalid JSON"));
    fail(json!({"$json": {}}), json!({}));
}

#[test]
fn ne_matcher() {
    let mut captures = Captures::new();
    captures.set("sid", json!("abc"));
    let pattern = pat(json!({"$ne": "${sid}", "$type": "string"}));
    assert!(match_value(&pattern, &json!("xyz"), &mut captures).passed());
    assert!(!match_value(&pattern, &json!("abc"), &mut captures).passed());
    fail(json!({"$ne": 1}), json!(1.0));
    pass(json!({"$ne": 1}), json!(2));
}

#[test]
fn bin_matcher_hex_base64_utf8_are_the_same_bytes() {
    let actual = binary_value(&[1, 2, 3, 4]);
    assert_eq!(actual, json!({"$bin": "01020304"}));
    pass(json!({"$bin": {"hex": "01020304"}}), actual.clone());
    pass(json!({"$bin": {"hex": "01 02 03 04"}}), actual.clone());
    pass(json!({"$bin": {"base64": "AQIDBA=="}}), actual.clone());
    pass(json!({"$bin": {"base64": "AQIDBA"}}), actual.clone());
    pass(json!({"$bin": {"utf8": "hi"}}), binary_value(b"hi"));
    // Upper-case hex in an actual value is still the same bytes.
    pass(json!({"$bin": {"hex": "0a"}}), json!({"$bin": "0A"}));
    assert_eq!(
        fail(json!({"$bin": {"base64": "BAUG"}}), actual.clone())[0].reason,
        "different bytes"
    );
    assert_eq!(
        fail(json!({"$bin": {"hex": "01"}}), json!("01"))[0].reason,
        "not binary"
    );
    pass(
        json!({"$bin": {"hex": "0102"}, "$capture": "b"}),
        binary_value(&[1, 2]),
    );
    // json_eq compares binary leaves by bytes.
    assert!(json_eq(&json!({"$bin": "ab"}), &json!({"$bin": "AB"})));
}

#[test]
fn string_affix_and_contains() {
    pass(json!({"$starts_with": "40"}), json!("40{\"sid\":1}"));
    fail(json!({"$starts_with": "40"}), json!("41"));
    fail(json!({"$starts_with": "40"}), json!(40));
    pass(json!({"$ends_with": "}"}), json!("40{}"));
    fail(json!({"$ends_with": "]"}), json!("40{}"));
    pass(json!({"$contains": "sid"}), json!("40{\"sid\":1}"));
    fail(json!({"$contains": "nope"}), json!("40{}"));
    pass(
        json!({"$contains": "websocket"}),
        json!(["polling", "websocket"]),
    );
    fail(json!({"$contains": "websocket"}), json!([]));
    fail(json!({"$contains": 1}), json!("1"));
    let mut captures = Captures::new();
    let pattern = pat(json!({"$contains": {"id": {"$capture": "id"}, "$extra_keys": "allow"}}));
    let actual = json!([1, {"id": 7, "x": 0}]);
    assert!(match_value(&pattern, &actual, &mut captures).passed());
    assert_eq!(captures.get("id"), Some(&json!(7)));
}

#[test]
fn ranges_and_lengths() {
    pass(json!({"$gt": 0}), json!(1));
    fail(json!({"$gt": 0}), json!(0));
    fail(json!({"$gt": 0}), json!("1"));
    pass(json!({"$lt": 1.5}), json!(1));
    fail(json!({"$lt": 1}), json!(1.0));
    pass(
        json!({"$gt": 18_446_744_073_709_551_614_u64}),
        json!(18_446_744_073_709_551_615_u64),
    );
    pass(json!({"$min_len": 1}), json!("é"));
    fail(json!({"$min_len": 2}), json!("é"));
    pass(json!({"$max_len": 2}), json!([1, 2]));
    fail(json!({"$max_len": 1}), json!([1, 2]));
    pass(json!({"$min_len": 1, "$max_len": 1}), json!({"a": 1}));
    pass(
        json!({"$min_len": 3, "$max_len": 3}),
        binary_value(&[0, 0, 0]),
    );
    assert_eq!(
        fail(json!({"$min_len": 1}), json!(5))[0].reason,
        "has no length"
    );
}

#[test]
fn any_matcher() {
    pass(json!({"$any": true}), json!(null));
    pass(json!({"a": {"$any": true}}), json!({"a": [1]}));
    fail(json!({"a": {"$any": true}}), json!({}));
}

#[test]
fn mismatch_rendering() {
    let mismatches = fail(json!({"a": {"$type": "string"}}), json!({"a": 1}));
    assert_eq!(
        mismatches[0].to_string(),
        r#"/a: not of type string: expected {"$type":"string"}, got 1"#
    );
    let long = "x".repeat(1000);
    let mismatches = fail(json!("short"), json!(long));
    assert!(mismatches[0].actual.len() < 300 && mismatches[0].actual.contains("1002 bytes"));
}

#[test]
fn pattern_parse_errors() {
    let error = |value: Value| Pattern::from_value(&value).unwrap_err().to_string();
    assert!(error(json!({"$tpye": "string"})).contains("unknown matcher `$tpye`"));
    assert!(error(json!({"$type": "str"})).contains("unknown `$type`"));
    assert!(error(json!({"$capture": "a b"})).contains("variable name"));
    assert!(error(json!({"$type": "string", "sid": 1})).contains("cannot be mixed"));
    assert!(
        error(json!({"$extra_keys": "forbid", "$type": "object"})).contains("cannot be combined")
    );
    assert!(error(json!({"$extra_keys": "strict"})).contains("unknown `$extra_keys` policy"));
    assert!(error(json!({"$bin": {"hex": "0"}})).contains("odd number"));
    assert!(error(json!({"$bin": {"hex": "01", "utf8": "x"}})).contains("exactly one"));
    assert!(error(json!({"$one_of": []})).contains("non-empty"));
    assert!(error(json!({"$any": false})).contains("only takes `true`"));
    assert!(error(json!({"$min_len": -1})).contains("non-negative"));
    assert_eq!(
        error(json!({"a": [{"$gt": "1"}]})),
        "at /a/0/$gt: `$gt` takes a number"
    );
    assert!(error(json!("${unterminated")).contains("unterminated"));
}

#[test]
fn pattern_round_trip_rendering_and_variables() {
    let pattern = pat(
        json!({"sid": {"$capture": "sid", "$type": "string"}, "x": "${a}-${b}", "$extra_keys": "forbid"}),
    );
    assert_eq!(pattern.captures(), ["sid"]);
    assert_eq!(pattern.variables(), ["a", "b"]);
    assert_eq!(
        pattern.to_string(),
        r#"{"sid":{"$type":"string","$capture":"sid"},"x":"${a}-${b}","$extra_keys":"forbid"}"#
    );
    assert!(pat(json!(2)).text_problem(false).is_some());
    assert!(pat(json!("2")).text_problem(false).is_none());
    assert!(
        pat(json!({"$bin": {"hex": "00"}}))
            .text_problem(false)
            .is_some()
    );
    assert!(
        pat(json!({"$bin": {"hex": "00"}}))
            .text_problem(true)
            .is_none()
    );
    let exact = Pattern::exact(&json!({"a": "${not_a_var}", "b": {"$bin": "00"}}));
    assert!(
        match_value(
            &exact,
            &json!({"a": "${not_a_var}", "b": {"$bin": "00"}}),
            &mut Captures::new()
        )
        .passed()
    );
}

#[test]
fn interpolation() {
    let mut captures = Captures::new();
    captures.set("sid", json!("abc"));
    captures.set("n", json!(3));
    captures.set("obj", json!({"a": [1]}));
    captures.set_duration("slack", std::time::Duration::from_millis(150));
    assert_eq!(
        interpolate("EIO=4&sid=${sid}&n=${n}", &captures).unwrap(),
        "EIO=4&sid=abc&n=3"
    );
    assert_eq!(interpolate("${obj}", &captures).unwrap(), r#"{"a":[1]}"#);
    assert_eq!(
        interpolate("cost: $5, literal $${sid}", &captures).unwrap(),
        "cost: $5, literal ${sid}"
    );
    assert_eq!(
        interpolate("${nope}", &captures),
        Err(VarError::Unknown("nope".into()))
    );
    assert_eq!(
        interpolate("${slack}", &captures),
        Err(VarError::NotAValue("slack".into()))
    );
    assert!(matches!(
        interpolate("${sid", &captures),
        Err(VarError::Syntax { offset: 0, .. })
    ));
    assert!(matches!(
        interpolate("a${}", &captures),
        Err(VarError::Syntax { offset: 1, .. })
    ));
    let value = json!(["message", "${n}", "n=${n}", {"k": "${sid}"}, {"$bin": "00"}]);
    assert_eq!(
        interpolate_value(&value, &captures).unwrap(),
        json!(["message", 3, "n=3", {"k": "abc"}, {"$bin": "00"}])
    );
    assert_eq!(value_variables(&value).unwrap(), ["n", "n", "sid"]);
    let template = Template::parse("a$${b}${c}").unwrap();
    assert_eq!(template.variables().collect::<Vec<_>>(), ["c"]);
    assert_eq!(Template::literal_text("x${y}").literal(), Some("x${y}"));
}
