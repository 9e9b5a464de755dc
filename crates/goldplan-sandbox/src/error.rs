//! The sandbox's own error type (start-up, persistence and admin operations). Errors answered to
//! API callers are WeChat-style JSON bodies built by the gateway, not values of this type.

/// Result alias of the sandbox.
pub type Result<T, E = SandboxError> = std::result::Result<T, E>;

/// Everything that can go wrong when starting or driving the sandbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The configuration cannot be used (non-loopback address without the explicit flag, ...).
    #[error("configuration error: {0}")]
    Config(String),
    /// Reading or writing the state directory failed.
    #[error("state directory error: {0}")]
    Io(#[from] std::io::Error),
    /// The business state file (`state.json`) in the state directory cannot be read: it is not
    /// valid JSON, lacks a field, or holds a value the sandbox cannot use. The file is left
    /// as it is; move it away to start from a fresh state.
    #[error("state file {path} cannot be loaded: {reason}")]
    CorruptState {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The business state file was written by a newer sandbox (its `format_version` is
    /// higher than this build understands). The file is left as it is.
    #[error("state file {path} has format_version {found}; this sandbox reads up to {supported}")]
    StateFormatTooNew {
        /// The file.
        path: std::path::PathBuf,
        /// The `format_version` found in it.
        found: u64,
        /// The newest version this build reads.
        supported: u32,
    },
    /// Another sandbox (in this process or another one) runs on the same state directory: the
    /// lock file `sandbox.lock` in it is taken. Two sandboxes writing one directory would
    /// overwrite each other's state. The lock is released when that sandbox stops
    /// ([`crate::SandboxHandle::shutdown`]) or its handle is dropped.
    #[error(
        "state directory {path} is in use by another running sandbox (its sandbox.lock is taken)"
    )]
    StateDirInUse {
        /// The state directory.
        path: std::path::PathBuf,
    },
    /// Generating or loading keys and certificates failed.
    #[error("identity error: {0}")]
    Identity(String),
    /// An admin operation was given invalid input.
    #[error("invalid admin request: {0}")]
    InvalidInput(String),
    /// An admin operation named something that does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A simulated payment, refund or expiry was refused (the order is unchanged). `code` is
    /// the stable reason (`SIGNATURE_MISMATCH`, `PREPAY_EXPIRED`, `APPID_MISMATCH`,
    /// `ORDER_NOT_PAYABLE`, `ORDER_EXPIRED`, `ORDER_NOT_EXIST`, …).
    #[error("payment refused ({code}): {message}")]
    PaymentRefused {
        /// The reason code.
        code: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An error from the protocol core.
    #[error(transparent)]
    Core(#[from] goldplan::Error),
}

impl SandboxError {
    /// The HTTP status the admin API answers this error with.
    pub fn http_status(&self) -> u16 {
        match self {
            SandboxError::InvalidInput(_)
            | SandboxError::Config(_)
            | SandboxError::PaymentRefused { .. } => 400,
            SandboxError::NotFound(_) => 404,
            _ => 500,
        }
    }

    /// A stable machine-readable code for the admin API.
    pub fn code(&self) -> &'static str {
        match self {
            SandboxError::Config(_) => "CONFIG",
            SandboxError::Io(_) => "IO",
            SandboxError::CorruptState { .. } => "CORRUPT_STATE",
            SandboxError::StateFormatTooNew { .. } => "STATE_FORMAT_TOO_NEW",
            SandboxError::StateDirInUse { .. } => "STATE_DIR_IN_USE",
            SandboxError::Identity(_) => "IDENTITY",
            SandboxError::InvalidInput(_) => "INVALID_INPUT",
            SandboxError::NotFound(_) => "NOT_FOUND",
            SandboxError::PaymentRefused { code, .. } => code,
            SandboxError::Core(_) => "CORE",
        }
    }
}

impl From<rcgen::Error> for SandboxError {
    fn from(e: rcgen::Error) -> SandboxError {
        SandboxError::Identity(format!("certificate generation failed: {e}"))
    }
}
