//! Replays the committed fuzz inputs through the fuzz property bodies
//! (`sio_fuzz_oracles`), so the stable `cargo test` checks every seed and every crash ever
//! found: `fuzz/corpus/<target>/*` (seeds generated from `fixtures/codec/` by
//! `fuzz/seed_corpus.py`) and `fuzz/regressions/<target>/*` (minimised crashes, kept
//! forever).
//!
//! Each target is its own test; a failing input is reported by path and as hex, after all
//! inputs of the target have run. The four session bodies (whose input is a step sequence, any
//! bytes) also run on random inputs.

use std::{
    fs,
    panic::{self, AssertUnwindSafe},
    path::{Path, PathBuf},
};

use sio_fuzz_oracles as fuzzing;

/// The `fuzz/` directory of the repository.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The files directly inside `dir`, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn replay(target: &str, body: fn(&[u8])) {
    let corpus = files(&fuzz_dir().join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "no seed corpus for {target}: run `python3 fuzz/seed_corpus.py`"
    );
    let regressions = files(&fuzz_dir().join("regressions").join(target));
    let mut failures = Vec::new();
    for path in corpus.iter().chain(&regressions) {
        let data = fs::read(path).expect("readable input");
        if let Err(panic) = panic::catch_unwind(AssertUnwindSafe(|| body(&data))) {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(non-string panic)");
            failures.push(format!(
                "{}\n    input: {}\n    {message}",
                path.display(),
                hex(&data)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{target}: {} of {} inputs violate a property:\n{}",
        failures.len(),
        corpus.len() + regressions.len(),
        failures.join("\n")
    );
}

#[test]
fn eio_decode_text() {
    replay("eio_decode_text", fuzzing::eio_decode_text);
}

#[test]
fn eio_decode_payload() {
    replay("eio_decode_payload", fuzzing::eio_decode_payload);
}

#[test]
fn sio_json_validate() {
    replay("sio_json_validate", fuzzing::sio_json_validate);
}

#[test]
fn sio_decode_text() {
    replay("sio_decode_text", fuzzing::sio_decode_text);
}

#[test]
fn sio_reassemble() {
    replay("sio_reassemble", fuzzing::sio_reassemble);
}

#[test]
fn sio_roundtrip_structured() {
    replay(
        "sio_roundtrip_structured",
        fuzzing::sio_roundtrip_structured,
    );
}

#[test]
fn eio_handshake_json() {
    replay("eio_handshake_json", fuzzing::eio_handshake_json);
}

#[test]
fn eio_server_session() {
    replay("eio_server_session", fuzzing::eio_server_session);
}

#[test]
fn sio_server_connection() {
    replay("sio_server_connection", fuzzing::sio_server_connection);
}

#[test]
fn eio_client_session() {
    replay("eio_client_session", fuzzing::eio_client_session);
}

#[test]
fn sio_client_connection() {
    replay("sio_client_connection", fuzzing::sio_client_connection);
}

proptest::proptest! {
    /// The session bodies on random step bytes, so `cargo test` explores beyond the seeds.
    #[test]
    fn session_bodies_on_random_steps(
        data in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
    ) {
        fuzzing::eio_server_session(&data);
        fuzzing::sio_server_connection(&data);
        fuzzing::eio_client_session(&data);
        fuzzing::sio_client_connection(&data);
    }

    /// The client session against the real server (header bit 4) on random steps.
    #[test]
    fn eio_client_against_the_server_on_random_steps(
        data in proptest::collection::vec(proptest::num::u8::ANY, 1..512),
    ) {
        let mut data = data;
        data[0] |= 0x10;
        fuzzing::eio_client_session(&data);
    }
}
