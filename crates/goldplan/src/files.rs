//! Bounded reads of the small files the SDK and its tools are given: keys, certificates,
//! configuration, captured callback headers and bodies.
//!
//! A path may name anything: `/dev/zero`, a FIFO, a directory, a multi-gigabyte log. Each file is
//! checked before it is opened (a regular file, no larger than the cap), checked again through
//! the open handle (the path may have been swapped meanwhile), and read through a reader that
//! stops one byte past the cap, so memory stays bounded whatever the file turns out to be.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Largest PEM file accepted (a key, a certificate, a small bundle): an RSA-8192 PKCS#8 key is
/// about 6.5 KiB.
pub const MAX_PEM_FILE: u64 = 256 * 1024;

/// Largest JSON configuration file accepted. A sandbox's `sandbox.json`, a configuration file
/// too, lists every special merchant: 10 000 of them take about 1 MiB.
pub const MAX_CONFIG_FILE: u64 = 8 * 1024 * 1024;

/// Why a bounded read failed. Its `Display` never names the path, so that a caller can decide
/// whether the path may be shown (it is a secret when key content was passed by mistake).
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadFailure {
    /// The path names a directory, a device, a FIFO or a socket.
    NotRegular,
    /// The file is larger than the cap.
    TooLarge {
        /// The cap, in bytes.
        max: u64,
    },
    /// The operating system refused (missing file, permissions, ...).
    Io(std::io::Error),
}

impl fmt::Display for ReadFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadFailure::NotRegular => f.write_str("is not a regular file"),
            ReadFailure::TooLarge { max } => write!(f, "is larger than the {max}-byte limit"),
            ReadFailure::Io(e) => write!(f, "cannot be read ({})", io_reason(e)),
        }
    }
}

impl std::error::Error for ReadFailure {}

/// The OS reason without the OS error's own decoration (which never names the path either).
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

/// Reads the whole of `path` when it is a regular file of at most `max` bytes.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, ReadFailure> {
    // Stat before opening: opening a FIFO for reading blocks until a writer appears.
    let meta = std::fs::metadata(path).map_err(ReadFailure::Io)?;
    check(&meta, max)?;
    let file = File::open(path).map_err(ReadFailure::Io)?;
    // Again through the handle: the path may name another file by now.
    let meta = file.metadata().map_err(ReadFailure::Io)?;
    check(&meta, max)?;
    let capacity = usize::try_from(meta.len()).unwrap_or(0);
    let mut data = Vec::with_capacity(capacity);
    // One byte past the cap tells a file that grew since the stat from one that is exactly
    // at the cap.
    file.take(max.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(ReadFailure::Io)?;
    if data.len() as u64 > max {
        return Err(ReadFailure::TooLarge { max });
    }
    Ok(data)
}

fn check(meta: &std::fs::Metadata, max: u64) -> Result<(), ReadFailure> {
    if !meta.is_file() {
        return Err(ReadFailure::NotRegular);
    }
    if meta.len() > max {
        return Err(ReadFailure::TooLarge { max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn devices_directories_and_large_files_are_refused_before_reading() {
        assert!(matches!(
            read_bounded(Path::new("/dev/zero"), 1024),
            Err(ReadFailure::NotRegular)
        ));
        assert!(matches!(
            read_bounded(Path::new("/"), 1024),
            Err(ReadFailure::NotRegular)
        ));
        let dir = std::env::temp_dir().join(format!("goldplan-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big");
        std::fs::write(&big, vec![b'x'; 2048]).unwrap();
        assert!(matches!(
            read_bounded(&big, 2047),
            Err(ReadFailure::TooLarge { max: 2047 })
        ));
        assert_eq!(read_bounded(&big, 2048).unwrap().len(), 2048);
        let missing = read_bounded(&dir.join("missing"), 10).unwrap_err();
        assert_eq!(missing.to_string(), "cannot be read (no such file)");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
