//! `goldplan-codegen [--check]`: rewrites the bindings' generated regions from the operation
//! registry, or (`--check`) lists the files that differ and exits 1.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(_) => {
            eprintln!("usage: goldplan-codegen [--check]");
            return ExitCode::from(2);
        }
    };
    let root = goldplan_codegen::workspace_root();
    let files = match goldplan_codegen::render(&root) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("goldplan-codegen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stale = 0;
    for (path, current, generated) in files {
        if current == generated {
            continue;
        }
        let shown = path.strip_prefix(&root).unwrap_or(&path).display();
        if check {
            eprintln!("{shown} differs from the registry");
            stale += 1;
        } else if let Err(e) = std::fs::write(&path, generated) {
            eprintln!("goldplan-codegen: cannot write {shown}: {e}");
            return ExitCode::FAILURE;
        } else {
            println!("wrote {shown}");
        }
    }
    if stale > 0 {
        eprintln!("run `cargo run -p goldplan-codegen` and commit the result");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
