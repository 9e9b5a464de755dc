//! What the client logs: retries and Request-IDs, never a secret, an Authorization header or a
//! body. Its own test binary, so that no other test's thread shares the tracing callsites.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::{Arc, Mutex};

use common::gateway::*;
use goldplan::gold_plan::OperationType;

#[tokio::test]
async fn debug_output_and_logs_never_contain_secrets() {
    use tracing_subscriber::layer::{Layer, SubscriberExt};
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_filter(tracing_subscriber::filter::LevelFilter::TRACE),
    );
    let _guard = tracing::subscriber::set_default(subscriber);

    let gw = Gateway::new(1);
    let client = certificate_client(&gw);
    client
        .change_gold_plan_status("1900000109", OperationType::Open, None)
        .await
        .unwrap();
    gw.push(
        Fault::Status(500, r#"{"code":"SYSTEM_ERROR","message":"x"}"#),
        1,
    );
    client.close_advertising_show("1").await.unwrap();

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "retries are traced: {logs}");
    assert!(logs.contains("req-"), "Request-IDs are traced");
    let debug = format!("{client:?}");
    let key_pem = key_file("merchant_test_key.pem");
    let key_body: String = key_pem.lines().nth(1).unwrap().to_owned();
    for text in [&logs, &debug] {
        assert!(!text.contains(APIV3), "APIv3 key leaked");
        assert!(!text.contains(&key_body), "private key leaked");
        assert!(
            !text.contains("WECHATPAY2-SHA256-RSA2048 mchid"),
            "Authorization leaked"
        );
        assert!(!text.contains("operation_type"), "request body leaked");
    }
}
