//! `sim serve` as a real process: bad input exits 2 before anything listens, and the server binds
//! to 127.0.0.1 by default, prints the facilitator's address and join code, and answers on its
//! socket. (The routes themselves are tested through the router in `src/serve/tests.rs`, the
//! pages in a browser by `sim-cli/tests/browser/run.sh`.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use super::{sim, temp};

#[test]
fn serve_refuses_bad_input_with_exit_2() {
    let dir = temp();
    std::fs::write(dir.path().join("bad.toml"), "[governance]\ndiscretion = 3\n").unwrap();
    sim(dir.path(), &["serve", "bad.toml", "--port", "0"]).assert_code(2).assert_stderr_has(&["bad.toml", "governance.discretion"]);
    sim(dir.path(), &["serve", "missing.toml", "--port", "0"]).assert_code(2).assert_stderr_has(&["missing.toml"]);
    sim(dir.path(), &["serve", "--max-days", "0", "--port", "0"]).assert_code(2).assert_stderr_has(&["--max-days"]);
    sim(dir.path(), &["serve", "--speed", "1e9", "--port", "0"]).assert_code(2).assert_stderr_has(&["--speed"]);
}

#[test]
fn serve_listens_on_localhost_and_answers() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["serve", "--port", "0", "--max-days", "50", "--key", "k"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut facilitator, mut participants) = (String::new(), String::new());
    out.read_line(&mut facilitator).unwrap();
    out.read_line(&mut participants).unwrap();
    let result = std::panic::catch_unwind(|| {
        let addr = facilitator.strip_prefix("facilitator: http://").and_then(|r| r.split('/').next()).unwrap_or_default().to_string();
        assert!(addr.starts_with("127.0.0.1:"), "binds to localhost by default: {facilitator}");
        assert!(facilitator.trim_end().ends_with("/?key=k"), "{facilitator}");
        assert!(participants.contains("/join (join code "), "{participants}");
        let mut conn = TcpStream::connect(&addr).unwrap();
        conn.write_all(b"GET /api/state HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
        let mut reply = String::new();
        conn.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.contains("\"top-down\"") && reply.contains("\"enablement\"") && reply.contains("\"days\":50"), "{reply}");
    });
    child.kill().ok();
    child.wait().ok();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
