//! The committed headers must be what cbindgen generates from the source today: CI fails on
//! drift. `GOLDPLAN_BLESS_HEADER=1 cargo test -p goldplan-c --test header` rewrites them.

#![allow(clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The C header as cbindgen writes it.
fn generate() -> String {
    let dir = crate_dir();
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

/// The PHP-clean header: the C header without preprocessor lines (FFI::cdef cannot parse
/// them) and without the C++ guard blocks they delimit.
fn php_clean(header: &str) -> String {
    let mut out = String::new();
    let mut skipping_cpp = false;
    for line in header.lines() {
        let t = line.trim_start();
        if t.starts_with("#ifdef __cplusplus") {
            skipping_cpp = true;
            continue;
        }
        if skipping_cpp {
            if t.starts_with("#endif") {
                skipping_cpp = false;
            }
            continue;
        }
        if t.starts_with('#') {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    // Collapse the blank runs left where directives were.
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    format!("{}\n", out.trim())
}

fn check(path: &Path, expected: &str) {
    if std::env::var_os("GOLDPLAN_BLESS_HEADER").is_some() {
        std::fs::write(path, expected).expect("write the header");
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == expected,
        "{} is out of date with the Rust source; regenerate it with \
         `GOLDPLAN_BLESS_HEADER=1 cargo test -p goldplan-c --test header` and commit it",
        path.display()
    );
}

#[test]
fn the_committed_headers_match_the_source() {
    let header = generate();
    assert!(header.contains("goldplan_client_call"), "{header}");
    let php = php_clean(&header);
    assert!(
        !php.lines().any(|l| l.trim_start().starts_with('#')),
        "{php}"
    );
    check(&crate_dir().join("include/goldplan.h"), &header);
    // One place: the PHP package ships it, and `install.sh` installs it from there.
    check(&crate_dir().join("../php/resources/goldplan_php.h"), &php);
}
