//! The bindings' typed operation methods, written from the core's operation registry
//! ([`goldplan::client::Operation`]): one module per language renders the registry into the
//! generated regions of that binding's files ([`region`]). `cargo run -p goldplan-codegen`
//! rewrites them; `--check` (and this crate's `drift` test, part of `cargo test`) fails when a
//! committed file differs from what the registry gives.
#![forbid(unsafe_code)]

pub mod model;
pub mod region;

mod c;
mod java;
mod node;
mod php;
mod python;
mod readme;

use std::path::{Path, PathBuf};

pub use model::{Op, Param, ParamType};

/// One generated region (or, with no region, a whole file).
#[derive(Debug, Clone)]
pub struct Output {
    /// Path relative to the workspace root.
    pub path: &'static str,
    /// The region's name; `None` for a whole generated file.
    pub region: Option<&'static str>,
    /// The generated lines.
    pub body: String,
}

/// Every generated region of every binding.
pub fn outputs() -> Result<Vec<Output>, String> {
    let ops = model::typed_operations()?;
    let mut all = Vec::new();
    all.extend(python::outputs(&ops));
    all.extend(node::outputs(&ops));
    all.extend(php::outputs(&ops));
    all.extend(java::outputs(&ops));
    all.extend(c::outputs()?);
    all.extend(readme::outputs());
    Ok(all)
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What each touched file should hold: `(path, current text, generated text)`.
pub fn render(root: &Path) -> Result<Vec<(PathBuf, String, String)>, String> {
    let mut files: Vec<(PathBuf, String, String)> = Vec::new();
    for output in outputs()? {
        let path = root.join(output.path);
        let index = match files.iter().position(|(p, _, _)| *p == path) {
            Some(i) => i,
            None => {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                files.push((path.clone(), text.clone(), text));
                files.len() - 1
            }
        };
        let entry = &mut files[index];
        entry.2 = match output.region {
            Some(name) => region::replace(&entry.2, name, &output.body)
                .map_err(|e| format!("{}: {e}", output.path))?,
            None => output.body,
        };
    }
    Ok(files)
}
