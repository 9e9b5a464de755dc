//! The sans-IO verifier's JSON configuration (what the C library's `goldplan_verifier_new`,
//! PHP's and Java's `Verifier` take): the client configuration's names, one rule set, in the core.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::PUBKEY_ID;
use goldplan::ErrorKind;
use goldplan::verify::VerifierConfig;
use serde_json::json;

fn build(config: serde_json::Value) -> goldplan::Result<goldplan::verify::ConfiguredVerifier> {
    VerifierConfig::from_json(config.to_string().as_bytes())?.build()
}

fn error(config: serde_json::Value) -> goldplan::Error {
    match build(config) {
        Ok(_) => panic!("the configuration was accepted"),
        Err(e) => e,
    }
}

#[test]
fn each_key_mode_builds_from_the_client_configuration_names() {
    let public_key = common::read("keys/wechatpay_test_pubkey.pem");
    let certificate = common::read("keys/platform_test_cert.pem");
    let path = common::vectors_dir().join("keys/wechatpay_test_pubkey.pem");

    let by_text = build(json!({"public_key_id": PUBKEY_ID, "public_key": public_key})).unwrap();
    assert_eq!(by_text.verifier.accept_serial().as_deref(), Some(PUBKEY_ID));
    assert!(by_text.certificates.is_empty());
    let by_path = build(json!({"public_key_id": PUBKEY_ID, "public_key": path})).unwrap();
    assert!(by_path.public_key.is_some());
    // The older name is still accepted.
    let older = build(json!({"public_key_id": PUBKEY_ID, "public_key_pem": public_key})).unwrap();
    assert!(older.public_key.is_some());

    let listed = build(json!({"platform_certificates": [{"pem": certificate}]})).unwrap();
    assert!(listed.public_key.is_none());
    assert_eq!(listed.certificates.len(), 1);
    let combined = build(json!({
        "public_key_id": PUBKEY_ID,
        "public_key": public_key,
        "platform_certificates": [certificate],
    }))
    .unwrap();
    assert!(combined.public_key.is_some());
    assert_eq!(combined.certificates.len(), 1);
}

#[test]
fn inconsistent_or_empty_configurations_are_refused_by_name() {
    let public_key = common::read("keys/wechatpay_test_pubkey.pem");
    let both = error(json!({
        "public_key_id": PUBKEY_ID, "public_key": public_key, "public_key_pem": public_key,
    }));
    assert_eq!(both.kind(), ErrorKind::Configuration);
    assert!(both.to_string().contains("not both"), "{both}");
    let alone = error(json!({"public_key": public_key}));
    assert!(
        alone
            .to_string()
            .contains("public_key_id and public_key go together"),
        "{alone}"
    );
    let nothing = error(json!({}));
    assert!(
        nothing.to_string().contains("a verifier needs"),
        "{nothing}"
    );
}

#[test]
fn a_key_in_the_wrong_member_is_described_never_echoed() {
    let public_key = common::read("keys/wechatpay_test_pubkey.pem");
    let body: String = public_key.lines().nth(1).unwrap().to_owned();
    for config in [
        json!({"public_key_id": public_key}),
        json!({"public_key_id": PUBKEY_ID, "public_key": body}),
        json!({"publicKey": public_key}),
        json!({"platform_certificates": [public_key]}),
        json!({"public_key_id": 7}),
    ] {
        let e = error(config);
        // A public key listed as a certificate is a certificate error; the rest configuration.
        assert!(
            matches!(e.kind(), ErrorKind::Configuration | ErrorKind::Certificate),
            "{e}"
        );
        let text = format!("{e} {e:?}");
        assert!(!text.contains(&body[..16]), "the key came back: {text}");
    }
}
