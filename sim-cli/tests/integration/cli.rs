//! Help text: `sim --help` and `sim run --help` succeed and show examples.

use crate::{sim, temp};

#[test]
fn help_exits_0_and_shows_examples() {
    for args in [&["--help"][..], &["run", "--help"][..], &["help", "run"][..]] {
        let tmp = temp();
        let o = sim(tmp.path(), args);
        o.assert_success().assert_stdout_has(&["Examples"]);
    }
}

#[test]
fn version_exits_0() {
    let tmp = temp();
    sim(tmp.path(), &["--version"]).assert_success().assert_stdout_has(&[env!("CARGO_PKG_VERSION")]);
}
