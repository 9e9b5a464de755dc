//! RSA-2048 operations per second through goldplan's own entry points, as plain numbers that
//! `bench/rsa_vs_openssl.sh` puts next to `openssl speed rsa2048`.
//!
//! `cargo bench -p goldplan --bench rsa_speed -- --seconds 3` prints
//!
//! ```text
//! goldplan rsa2048 sign_per_s=4602.0 ops=13808 seconds=3.000
//! goldplan rsa2048 verify_per_s=82743.6 ops=248232 seconds=3.000
//! ```
//!
//! Each operation runs single-threaded for the given time (like `openssl speed`): signing is
//! `PrivateKey::sign_sha256` (RSASSA-PKCS1-v1_5 over SHA-256 of the spec's R1 request message,
//! with AWS-LC's blinding), verifying is `Verifier::verify` of that signature with the public
//! key.

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use goldplan::credentials::PrivateKey;
use goldplan::sign::message_to_sign;
use goldplan::verify::{PublicKeyVerifier, Verifier};

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/keys/");
const KEY_ID: &str = "PUB_KEY_ID_0000000000000000000000000000000001";

/// `--seconds N` (default 3); other arguments, such as the `--bench` cargo adds, are ignored.
fn seconds() -> Result<f64, Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--seconds") {
        Some(i) => {
            let value = args.get(i + 1).ok_or("--seconds needs a value")?;
            let s: f64 = value.parse()?;
            if !(s > 0.0 && s <= 600.0) {
                return Err(format!("--seconds must be in (0, 600], got {s}").into());
            }
            Ok(s)
        }
        None => Ok(3.0),
    }
}

/// Runs `op` repeatedly for `seconds`, returning (operations, elapsed seconds).
fn run_for(
    seconds: f64,
    mut op: impl FnMut() -> goldplan::Result<()>,
) -> goldplan::Result<(u64, f64)> {
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut ops = 0u64;
    loop {
        for _ in 0..8 {
            op()?;
        }
        ops += 8;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return Ok((ops, elapsed.as_secs_f64()));
        }
    }
}

fn report(operation: &str, (ops, elapsed): (u64, f64)) {
    println!(
        "goldplan rsa2048 {operation}_per_s={:.1} ops={ops} seconds={elapsed:.3}",
        ops as f64 / elapsed
    );
}

fn main() -> Result<(), Box<dyn Error>> {
    let seconds = seconds()?;
    let key = PrivateKey::from_pem_file(format!("{KEYS}merchant_test_key.pem"))?;
    let public_pem = std::fs::read_to_string(format!("{KEYS}merchant_test_pubkey.pem"))?;
    let verifier = PublicKeyVerifier::from_pem(KEY_ID, &public_pem)?;
    let message = message_to_sign(
        "POST",
        "/v3/goldplan/merchants/changegoldplanstatus",
        1_700_000_000,
        "C5vqhMqqR1fVbn2Hqk6K9Uw4tPZ3mJ8e",
        br#"{"sub_mchid":"1900000109","operation_type":"OPEN","operation_pay_scene":"JSAPI"}"#,
    )?;

    let signs = run_for(seconds, || {
        black_box(key.sign_sha256(black_box(&message))?);
        Ok(())
    })?;
    report("sign", signs);

    let signature = key.sign_sha256(&message)?;
    let verifies = run_for(seconds, || {
        verifier.verify(KEY_ID, black_box(&message), black_box(&signature))
    })?;
    report("verify", verifies);
    Ok(())
}
