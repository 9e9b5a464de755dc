//! Every sandbox fault and what the client makes of it: bounded retries for what is safe to
//! repeat, typed errors for the rest, and never a wrong result.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use goldplan::gold_plan::{CLOSE_ADVERTISING_SHOW, OperationType};
use goldplan::{Client, Error, ErrorKind};
use goldplan_e2e::*;
use goldplan_sandbox::{Fault, FaultKind, KeyMode, RequestRecord, SandboxControl, SandboxHandle};

const ATTEMPTS: usize = 3;

/// A sandbox in combined mode, so that a certificate client gets certificate-signed answers
/// and a public-key client public-key-signed ones; Gold Plan is open for `SUB`.
async fn fixture(verification: Verification) -> (SandboxHandle, Client) {
    let sandbox = start(KeyMode::Combined).await;
    let client = client(&info(&sandbox), verification);
    client
        .change_gold_plan_status(SUB, OperationType::Open, None)
        .await
        .unwrap();
    (sandbox, client)
}

fn fault(kind: FaultKind, times: u32) -> Fault {
    Fault::new(kind).times(times).on_path(GOLD_PLAN_PATHS)
}

/// The Gold Plan requests logged since `before` of them were.
fn since(sandbox: &SandboxControl, before: usize) -> Vec<RequestRecord> {
    requests_to(sandbox, GOLD_PLAN_PATHS).split_off(before)
}

fn gold_plan_calls(sandbox: &SandboxControl) -> usize {
    requests_to(sandbox, GOLD_PLAN_PATHS).len()
}

async fn open(client: &Client) -> goldplan::Result<()> {
    client
        .change_gold_plan_status(SUB, OperationType::Open, None)
        .await
        .map(drop)
}

/// A generic POST, which the client does not know to be safe to repeat.
async fn generic_post(client: &Client) -> goldplan::Result<goldplan::Response> {
    let body = format!(r#"{{"sub_mchid":"{SUB}"}}"#);
    client
        .request("POST", CLOSE_ADVERTISING_SHOW.path, Some(body.as_bytes()))
        .await
}

/// The status answers the client retries: after `ATTEMPTS - 1` faults the call succeeds; with
/// `ATTEMPTS` it fails with the last answer, typed; nothing more is sent.
#[tokio::test]
async fn retryable_answers_are_retried_within_the_budget() {
    let (sandbox, client) = fixture(Verification::Certificates).await;
    let cases = [
        (FaultKind::SystemError, 500, "SYSTEM_ERROR", "系统错误"),
        (FaultKind::TooManyRequests, 429, "RATELIMIT_EXCEEDED", ""),
        (
            FaultKind::RateLimited,
            400,
            "INVALID_REQUEST",
            "命中频率限制",
        ),
    ];
    for (kind, status, code, message) in cases {
        let before = gold_plan_calls(&sandbox);
        sandbox
            .inject_fault(fault(kind, ATTEMPTS as u32 - 1))
            .unwrap();
        open(&client).await.unwrap();
        let statuses: Vec<u16> = since(&sandbox, before).iter().map(|r| r.status).collect();
        assert_eq!(statuses, [status, status, 200], "{kind:?}");

        let before = gold_plan_calls(&sandbox);
        sandbox
            .inject_fault(fault(kind, ATTEMPTS as u32 + 1))
            .unwrap();
        let err = open(&client).await.unwrap_err();
        assert_api_error(&sandbox, &err, status, code, message);
        assert!(err.is_retryable(), "{kind:?}");
        assert_eq!(since(&sandbox, before).len(), ATTEMPTS, "{kind:?}");
        assert_eq!(sandbox.faults()[0].count, 1, "{kind:?}: bounded");
        sandbox.clear_faults();
    }

    // A POST the client cannot know to be idempotent: a 500 is final, but rate limiting means
    // "not accepted", so that is retried even here.
    let before = gold_plan_calls(&sandbox);
    sandbox
        .inject_fault(fault(FaultKind::SystemError, 1))
        .unwrap();
    let err = generic_post(&client).await.unwrap_err();
    assert_api_error(&sandbox, &err, 500, "SYSTEM_ERROR", "");
    assert_eq!(since(&sandbox, before).len(), 1);
    for kind in [FaultKind::TooManyRequests, FaultKind::RateLimited] {
        let before = gold_plan_calls(&sandbox);
        sandbox.inject_fault(fault(kind, 1)).unwrap();
        assert_eq!(generic_post(&client).await.unwrap().status, 204);
        assert_eq!(since(&sandbox, before).len(), 2, "{kind:?}");
    }
}

#[tokio::test]
async fn a_delay_beyond_the_timeout_is_a_timeout() {
    let sandbox = start(KeyMode::Combined).await;
    let client = builder(&info(&sandbox), Verification::PublicKey)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let slow = |times| fault(FaultKind::Delay, times).with_delay_ms(3_000);

    // Safe to repeat: each attempt times out, up to the budget.
    sandbox.inject_fault(slow(ATTEMPTS as u32 + 1)).unwrap();
    let err = open(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(
        sandbox.faults()[0].count,
        1,
        "{ATTEMPTS} attempts were sent"
    );
    sandbox.clear_faults();

    // A generic POST is sent once: it may have been executed.
    sandbox.inject_fault(slow(2)).unwrap();
    let err = generic_post(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(sandbox.faults()[0].count, 1, "one attempt only");
    sandbox.clear_faults();

    // One slow answer, then a normal one.
    sandbox.inject_fault(slow(1)).unwrap();
    open(&client).await.unwrap();
    assert!(sandbox.faults().is_empty());
}

/// Asserts a transport failure that is not a result: never an `Ok` with partial data.
fn assert_transport(err: &Error) {
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(!err.is_retryable(), "a response may exist: {err}");
}

#[tokio::test]
async fn connection_resets_are_retried_only_when_safe() {
    let (sandbox, client) = fixture(Verification::PublicKey).await;
    let before = gold_plan_calls(&sandbox);
    sandbox
        .inject_fault(fault(FaultKind::ConnectionReset, 1))
        .unwrap();
    open(&client).await.unwrap();
    let statuses: Vec<u16> = since(&sandbox, before).iter().map(|r| r.status).collect();
    assert_eq!(statuses, [0, 200]);

    let before = gold_plan_calls(&sandbox);
    sandbox
        .inject_fault(fault(FaultKind::ConnectionReset, ATTEMPTS as u32))
        .unwrap();
    assert_transport(&open(&client).await.unwrap_err());
    assert_eq!(since(&sandbox, before).len(), ATTEMPTS);

    let before = gold_plan_calls(&sandbox);
    sandbox
        .inject_fault(fault(FaultKind::ConnectionReset, 1))
        .unwrap();
    assert_transport(&generic_post(&client).await.unwrap_err());
    assert_eq!(since(&sandbox, before).len(), 1);
    generic_post(&client).await.unwrap();
}

#[tokio::test]
async fn a_truncated_body_is_never_a_result() {
    let (sandbox, client) = fixture(Verification::Certificates).await;
    // The typed call is safe to repeat: the second attempt gets the whole body.
    sandbox
        .inject_fault(fault(FaultKind::TruncatedBody, 1))
        .unwrap();
    let reply = client
        .change_gold_plan_status(SUB, OperationType::Open, None)
        .await
        .unwrap();
    assert_eq!(reply.data.sub_mchid, SUB);

    sandbox
        .inject_fault(fault(FaultKind::TruncatedBody, ATTEMPTS as u32))
        .unwrap();
    let err = open(&client).await.unwrap_err();
    assert!(
        err.kind() == ErrorKind::Transport || err.kind().is_verification_failure(),
        "{err}"
    );
    assert!(sandbox.faults().is_empty());

    // The generic request is not repeated.
    let body = format!(r#"{{"sub_mchid":"{SUB}","operation_type":"OPEN"}}"#);
    let before = gold_plan_calls(&sandbox);
    sandbox
        .inject_fault(fault(FaultKind::TruncatedBody, 1))
        .unwrap();
    let err = client
        .request(
            "POST",
            goldplan::gold_plan::CHANGE_GOLD_PLAN_STATUS.path,
            Some(body.as_bytes()),
        )
        .await
        .unwrap_err();
    assert!(
        err.kind() == ErrorKind::Transport || err.kind().is_verification_failure(),
        "{err}"
    );
    assert_eq!(since(&sandbox, before).len(), 1);
}

/// Asserts a verification failure of `kind` that carries the Request-ID of the one faulted
/// answer, and that the call was not repeated.
fn assert_rejected(sandbox: &SandboxControl, err: &Error, kind: ErrorKind, fault: FaultKind) {
    assert_eq!(err.kind(), kind, "{err}");
    assert!(err.kind().is_verification_failure());
    assert!(!err.is_retryable());
    let id = err
        .request_id()
        .expect("the Request-ID of the rejected answer");
    let last = requests_to(sandbox, GOLD_PLAN_PATHS).pop().unwrap();
    assert!(last.request_id.eq_ignore_ascii_case(id), "{last:?}");
    assert_eq!(last.fault, Some(fault));
}

#[tokio::test]
async fn tampered_answers_are_rejected_and_not_retried() {
    for verification in [Verification::Certificates, Verification::PublicKey] {
        let (sandbox, client) = fixture(verification).await;
        let cases = [
            (FaultKind::BadSignature, ErrorKind::SignatureInvalid),
            (FaultKind::StaleTimestamp, ErrorKind::ClockSkew),
        ];
        for (fault_kind, kind) in cases {
            // A 200 with a body and a 204 without one.
            let before = gold_plan_calls(&sandbox);
            sandbox.inject_fault(fault(fault_kind, 2)).unwrap();
            assert_rejected(
                &sandbox,
                &open(&client).await.unwrap_err(),
                kind,
                fault_kind,
            );
            let err = client.close_advertising_show(SUB).await.unwrap_err();
            assert_rejected(&sandbox, &err, kind, fault_kind);
            assert_eq!(
                since(&sandbox, before).len(),
                2,
                "{verification:?} {fault_kind:?}"
            );
        }
        open(&client).await.unwrap();
    }
}

#[tokio::test]
async fn an_unknown_serial_fails_after_exactly_one_refresh() {
    // Downloads before and after; pure public-key mode has nothing to download.
    let cases = [
        (Verification::Certificates, 1, 2),
        (Verification::PublicKey, 0, 0),
    ];
    for (verification, before, after) in cases {
        let (sandbox, client) = fixture(verification).await;
        assert_eq!(certificate_downloads(&sandbox), before);
        sandbox
            .inject_fault(fault(FaultKind::UnknownSerial, 1))
            .unwrap();
        let err = open(&client).await.unwrap_err();
        assert_rejected(
            &sandbox,
            &err,
            ErrorKind::UnknownSerial,
            FaultKind::UnknownSerial,
        );
        assert_eq!(certificate_downloads(&sandbox), after, "{verification:?}");
        open(&client).await.unwrap();
    }
}
