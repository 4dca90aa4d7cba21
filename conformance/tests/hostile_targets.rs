//! The real `conformance` binary against servers that do not behave: it must end by itself,
//! quickly, with a summary, its reports and the right exit code. Every server listens on
//! loopback only and lives a bounded time.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long any test server lives.
const LIFETIME: Duration = Duration::from_secs(60);

/// A v4 polling handshake answer.
fn handshake_response() -> String {
    let body = r#"0{"sid":"abcdefghijklmnopqrst","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Starts a server on loopback that hands each connection to `handle` (on its own thread);
/// after `accept_limit` connections it closes its listener (the server "dies").
fn serve(accept_limit: usize, handle: impl Fn(TcpStream) + Send + Sync + Copy + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    listener.set_nonblocking(true).expect("nonblocking");
    thread::spawn(move || {
        let end = Instant::now() + LIFETIME;
        let mut accepted = 0;
        while Instant::now() < end && accepted < accept_limit {
            match listener.accept() {
                Ok((stream, _)) => {
                    accepted += 1;
                    let _ = stream.set_nonblocking(false);
                    thread::spawn(move || handle(stream));
                }
                Err(_) => thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Reads (a part of) the request, so that the client's write never fails.
fn read_request(stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 4096];
    let _ = stream.read(&mut buf);
}

fn hold(stream: TcpStream) {
    thread::sleep(Duration::from_secs(20));
    drop(stream);
}

fn never_answer(stream: TcpStream) {
    hold(stream);
}

fn ok_then_stall(mut stream: TcpStream) {
    read_request(&mut stream);
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n");
    hold(stream);
}

fn drip(mut stream: TcpStream) {
    read_request(&mut stream);
    for byte in handshake_response().into_bytes() {
        if stream.write_all(&[byte]).is_err() {
            return;
        }
        thread::sleep(Duration::from_millis(300));
    }
}

fn garbage(mut stream: TcpStream) {
    read_request(&mut stream);
    let _ = stream.write_all(b"\x00\xffSSH-2.0-garbage\r\n\x1b[31mnot http\r\n\r\n");
}

/// Answers every request with an Engine.IO handshake and closes.
fn handshake(mut stream: TcpStream) {
    read_request(&mut stream);
    let _ = stream.write_all(handshake_response().as_bytes());
    thread::sleep(Duration::from_millis(50));
}

/// Answers a handshake (a request without `sid=`) and never anything else: every case gets
/// its session, then waits until its deadline.
fn handshake_then_stall(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap_or(0);
    if String::from_utf8_lossy(&buf[..n]).contains("sid=") {
        hold(stream);
    } else {
        let _ = stream.write_all(handshake_response().as_bytes());
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn command(target: &str, dir: &PathBuf, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conformance"));
    command
        .current_dir(dir)
        .args(["run", "--target", target, "--timeout", "2s"])
        .args(["--connect-timeout", "2s", "--trace", "none"])
        .arg("--report")
        .arg(format!("json={}", dir.join("report.json").display()))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs the binary; its output and wall time.
fn run(name: &str, target: &str, extra: &[&str]) -> (Output, Duration, PathBuf) {
    let dir = scratch(name);
    let started = Instant::now();
    let output = command(target, &dir, extra)
        .output()
        .expect("run conformance");
    (output, started.elapsed(), dir)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_ended(name: &str, output: &Output, took: Duration, dir: &std::path::Path, code: i32) {
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert!(
        took < Duration::from_secs(30),
        "{name}: took {took:?}\n{stdout}\n{stderr}"
    );
    assert_eq!(
        output.status.code(),
        Some(code),
        "{name}:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("Summary: "), "{name}: no summary\n{stdout}");
    assert!(dir.join("report.json").exists(), "{name}: no JSON report");
    assert!(
        dir.join(".conformance/last-run.json").exists(),
        "{name}: no last-run.json"
    );
}

#[test]
fn silent_targets_end_fast_with_exit_3() {
    for (name, handle) in [
        ("never-answer", never_answer as fn(TcpStream)),
        ("200-then-stall", ok_then_stall),
        ("drip", drip),
    ] {
        let target = serve(10_000, handle);
        let (output, took, dir) = run(name, &target, &[]);
        assert_ended(name, &output, took, &dir, 3);
        let stderr = text(&output.stderr);
        assert!(stderr.contains("preflight"), "{name}: {stderr}");
        assert!(stderr.contains("nothing answers"), "{name}: {stderr}");
        assert!(
            stderr.contains("tried GET /engine.io/?EIO=4&transport=polling"),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn nothing_listening_still_reports() {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let target = format!("http://127.0.0.1:{port}");
    let (output, took, dir) = run("refused", &target, &[]);
    assert_ended("refused", &output, took, &dir, 3);
    assert!(text(&output.stderr).contains("unreachable"));
}

#[test]
fn garbage_is_not_engine_io() {
    let target = serve(10_000, garbage);
    let (output, took, dir) = run("garbage", &target, &[]);
    assert_ended("garbage", &output, took, &dir, 3);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("does not speak Engine.IO"), "{stderr}");
}

#[test]
fn a_target_that_dies_mid_run_is_lost() {
    // The preflight and the first cases get handshakes; then nothing listens any more.
    let target = serve(40, handshake);
    let (output, took, dir) = run("dies", &target, &["--parallel", "2"]);
    assert_ended("dies", &output, took, &dir, 3);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("target lost"), "{stdout}");
}

#[test]
fn sigterm_stops_the_run_with_a_summary_and_reports() {
    let target = serve(10_000, handshake_then_stall);
    let dir = scratch("sigterm");
    let started = Instant::now();
    let child = command(&target, &dir, &["--report"])
        .arg(format!("junit={}", dir.join("junit.xml").display()))
        .arg("--report")
        .arg(format!("tap={}", dir.join("report.tap").display()))
        .spawn()
        .expect("spawn");
    thread::sleep(Duration::from_secs(6));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("wait");
    let took = started.elapsed();
    assert_ended("sigterm", &output, took, &dir, 5);
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert!(
        stdout.contains("INTERRUPTED: interrupted by SIGTERM"),
        "{stdout}"
    );
    // No terminal: the run said where it was while it ran.
    assert!(stderr.contains("progress: "), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("json"))
            .expect("valid JSON");
    assert_eq!(
        report["interrupted"],
        serde_json::Value::Bool(true),
        "{report}"
    );
    let junit = std::fs::read_to_string(dir.join("junit.xml")).expect("junit");
    assert!(junit.contains("interrupted=\""), "{junit}");
    let tap = std::fs::read_to_string(dir.join("report.tap")).expect("tap");
    assert!(
        tap.contains("# interrupted: interrupted by SIGTERM"),
        "{tap}"
    );
}

#[test]
fn max_run_duration_interrupts() {
    let target = serve(10_000, handshake_then_stall);
    let (output, took, dir) = run("max-run", &target, &["--max-run-duration", "3s"]);
    assert_ended("max-run", &output, took, &dir, 5);
    assert!(took < Duration::from_secs(15), "took {took:?}");
}
