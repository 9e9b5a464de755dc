//! # goldplan
//!
//! One audited implementation of the WeChat Pay APIv3 security protocol and of the Gold Plan
//! (点金计划) service-provider API.
//!
//! The protocol modules are sans-IO (pure functions over bytes, with an injectable clock):
//!
//! * [`credentials`] — merchant id, certificate serial, private key, APIv3 key;
//! * [`sign`] — the string to sign, nonce, `Authorization`, the [`sign::Signer`] plug-in;
//! * [`verify`] — response/callback verification and the [`verify::Verifier`] plug-in;
//! * [`x509`] — certificates, serial numbers and certificate sets (a leaf module);
//! * [`certificates`] — the `/v3/certificates` download: decrypt, validate, verify;
//! * [`aead`] — AEAD_AES_256_GCM;
//! * [`sensitive`] — RSA-OAEP sensitive fields;
//! * [`notification`] — callbacks;
//! * [`receipt`] — the merchant receipt `check_code`;
//! * [`gold_plan`] — the five Gold Plan operations, their enums and bodies;
//! * [`payments`] — partner JSAPI payments: prepay, pay-sign, query, close, the transaction;
//! * [`media`] — the signed multipart image upload;
//! * [`error`] — the error type and retry classification.
//! * [`files`] — bounded reads of key, certificate and configuration files.
//! * [`config`] — a merchant's configuration as plain data (JSON files such as `sandbox.json`).
//!
//! With the default `client` feature, [`client::Client`] adds the async HTTP client
//! (reqwest + rustls): signing, verification, certificate rotation, retries, typed calls.
//!
//! Every private-key operation and all symmetric crypto goes through `aws-lc-rs`.
//!
//! ```
//! use goldplan::sign::{message_to_sign, Authorization};
//!
//! let msg = message_to_sign("GET", "/v3/certificates?algorithm_type=RSA", 1700000000,
//!                           "C5vqhMqqR1fVbn2Hqk6K9Uw4tPZ3mJ8e", b"")?;
//! assert_eq!(msg.len(), 85);
//! let auth = Authorization {
//!     mchid: "1900000100".into(), nonce_str: "n".into(), timestamp: 1700000000,
//!     serial_no: "ABC".into(), signature: "SIG".into(),
//! };
//! assert!(auth.header_value()?.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900000100\""));
//! # Ok::<(), goldplan::Error>(())
//! ```

#![forbid(unsafe_code)]

// First: the services below declare their enums with its macro.
#[macro_use]
mod wire_enum;

pub mod aead;
pub mod certificates;
#[cfg(feature = "client")]
pub mod client;
pub mod clock;
#[cfg(feature = "client")]
pub mod config;
pub mod credentials;
pub mod error;
pub mod files;
pub mod gold_plan;
pub mod helpers;
#[cfg(feature = "client")]
pub mod http;
pub mod media;
pub mod notification;
pub mod payments;
pub mod receipt;
pub mod redact;
pub mod sensitive;
pub mod service;
pub mod sign;
pub mod untrusted;
pub mod verify;
pub mod x509;

#[cfg(feature = "client")]
pub use client::{Client, ClientBuilder, ClientRegistry, Reply, RequestOptions, Response};
pub use error::{ApiError, Error, ErrorFamily, ErrorKind, ErrorReport, Result, VerificationError};
