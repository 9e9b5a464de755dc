//! Platform certificate rotation and expiry (spec §3.5): issue a new certificate that is listed
//! for a lead time before it signs while the old one stays listed for an overlap window (or
//! switch at once, or keep a staged hand-over staged), switch or expire one explicitly, and an
//! optional automatic schedule evaluated lazily against the sandbox clock.

use std::sync::atomic::{AtomicBool, Ordering};

use goldplan::clock::{Clock, SystemClock};

use crate::config::KeyMode;
use crate::error::{Result, SandboxError};
use crate::identity::{PlatformIdentity, WechatSide};
use crate::model::{PlatformCertificateInfo, RotateRequest, RotationOutcome};
use crate::state::Shared;

/// Issues a new platform certificate. Key generation runs outside the state lock.
pub(crate) async fn rotate(app: &Shared, request: &RotateRequest) -> Result<RotationOutcome> {
    let (mchid, validity, overlap, lead) = {
        let st = app.lock();
        let mchid = request
            .mchid
            .clone()
            .unwrap_or_else(|| st.primary_mchid.clone());
        // Refused before a key is generated for nothing.
        st.merchant(&mchid)?;
        (
            mchid,
            request
                .validity_secs
                .unwrap_or(st.settings.certificate_validity_secs),
            request
                .overlap_secs
                .unwrap_or(st.settings.rotation_overlap_secs),
            request.lead_secs.unwrap_or(st.settings.rotation_lead_secs),
        )
    };
    if validity <= 0 || overlap < 0 || lead < 0 {
        return Err(SandboxError::InvalidInput(
            "validity_secs must be positive, overlap_secs and lead_secs not negative".into(),
        ));
    }
    // The sandbox decides activity and age on its own clock; the certificate itself must also
    // be valid for clients on the wall clock, which drop certificates not yet valid.
    let now = app.now();
    // Refused (400) before a key is generated for nothing, instead of failing inside X.509.
    crate::identity::certificate_end(now, validity)?;
    let system_now = SystemClock.now();
    let fresh = tokio::task::spawn_blocking(move || {
        PlatformIdentity::generate_at(now, system_now, validity)
    })
    .await
    .map_err(|e| SandboxError::Identity(format!("key generation task failed: {e}")))??;
    let outcome = install(app, &mchid, fresh, overlap, lead, request.sign_with_new)?;
    app.persist()?;
    Ok(outcome)
}

fn install(
    app: &Shared,
    mchid: &str,
    mut fresh: PlatformIdentity,
    overlap: i64,
    lead: i64,
    sign_with_new: Option<bool>,
) -> Result<RotationOutcome> {
    let now = app.now();
    let mut st = app.lock();
    let mode = st.mode_of(mchid);
    let side = st.side_mut(mchid)?;
    // The certificate signing before this rotation: a staged hand-over pins it.
    let current = side.signer(mode, now).map(|p| p.serial_no().to_owned());
    // The new certificate must be able to sign by the time the old ones retire, or nothing a
    // client has downloaded would be left to sign with.
    fresh.signs_from = match sign_with_new {
        Some(true) => now,
        Some(false) | None => now.saturating_add(lead.min(overlap)),
    };
    let retire_at = now.saturating_add(overlap);
    let mut previous = Vec::new();
    for p in side.platform.iter_mut().filter(|p| p.is_active(now)) {
        p.retire_at = Some(p.retire_at.map_or(retire_at, |r| r.min(retire_at)));
        previous.push(p.serial_no().to_owned());
    }
    let new_serial_no = fresh.serial_no().to_owned();
    match (sign_with_new, current) {
        // Staged: whoever signs now keeps the designation until it is switched, retires or
        // expires (and when nothing signs, the usual fallback picks a usable certificate).
        (Some(false), Some(current)) => side.signing_serial = current,
        (Some(false), None) => {}
        // Designated now; it signs once `signs_from` is reached (at once for `true`).
        (Some(true) | None, _) => side.signing_serial = new_serial_no.clone(),
    }
    side.platform.push(fresh);
    let previous = side
        .certificate_info(now, mode)
        .into_iter()
        .filter(|c| previous.contains(&c.serial_no))
        .collect();
    tracing::info!(%mchid, serial = %new_serial_no, "issued a new platform certificate");
    Ok(RotationOutcome {
        new_serial_no,
        previous,
    })
}

/// Retires a platform certificate now: it is no longer listed nor used for signing. Returns
/// the certificates of the merchant that held it, as that merchant sees them afterwards.
///
/// The last listed certificate of a merchant in certificate mode is not retired: that
/// merchant's client holds nothing else to verify answers with. When the certificate signing
/// goes and no other has passed its lead time, certificate-mode answers move at once to the
/// listed one whose lead time ends first (the new one of the rotation under way); its entry
/// says `lead_time_cut_short`.
pub(crate) fn expire(app: &Shared, serial: &str) -> Result<Vec<PlatformCertificateInfo>> {
    let now = app.now();
    let listed = {
        let mut st = app.lock();
        let (mchid, index) = st.platform_owner(serial)?;
        let mode = st.mode_of(&mchid);
        let side = st.side_mut(&mchid)?;
        let still_listed = |side: &WechatSide| {
            side.listed(mode, now)
                .any(|p| side.platform_index(p.certificate().serial()) != Some(index))
        };
        let target_listed = side
            .platform
            .get(index)
            .is_some_and(|p| side.is_listed(p, mode, now));
        if mode == KeyMode::Certificate && target_listed && !still_listed(side) {
            return Err(SandboxError::InvalidInput(
                "this is the last listed platform certificate of a merchant in certificate \
                 mode; rotate first"
                    .into(),
            ));
        }
        if let Some(p) = side.platform.get_mut(index) {
            // Never later than before: expiring a certificate that has already retired must
            // not make it the one listed last (see `WechatSide::held_over`).
            p.retire_at = Some(p.retire_at.map_or(now, |r| r.min(now)));
        }
        if let Some(early) = side
            .lead_time_cut_short(now)
            .filter(|_| mode == KeyMode::Certificate)
        {
            tracing::warn!(
                %mchid,
                serial = %early.serial_no(),
                "no listed platform certificate has passed its lead time; certificate-mode \
                 answers are signed with a listed one at once"
            );
        }
        side.certificate_info(now, mode)
    };
    app.persist()?;
    Ok(listed)
}

/// Makes an active platform certificate sign from now on (an explicit switch: its lead time,
/// if any is left, is waived).
pub(crate) fn switch(app: &Shared, serial: &str) -> Result<()> {
    let now = app.now();
    {
        let mut st = app.lock();
        let (mchid, index) = st.platform_owner(serial)?;
        let mode = st.mode_of(&mchid);
        let side = st.side_mut(&mchid)?;
        let listed = side
            .platform
            .get(index)
            .is_some_and(|p| side.is_listed(p, mode, now));
        let Some(p) = side.platform.get_mut(index) else {
            return Err(SandboxError::NotFound(
                "no such platform certificate".into(),
            ));
        };
        if !listed {
            return Err(SandboxError::InvalidInput(
                "that platform certificate is not active".into(),
            ));
        }
        p.signs_from = p.signs_from.min(now);
        let serial_no = p.serial_no().to_owned();
        side.signing_serial = serial_no;
    }
    app.persist()
}

/// The merchants whose newest active platform certificate is due for a scheduled rotation.
fn rotations_due(app: &Shared) -> Vec<String> {
    let now = app.now();
    let st = app.lock();
    let Some(after) = st.settings.auto_rotate_after_secs else {
        return Vec::new();
    };
    let due = |side: &crate::identity::WechatSide| {
        side.platform
            .iter()
            .filter(|p| p.is_active(now))
            .map(|p| p.issued_at)
            .max()
            .is_none_or(|newest| now - newest >= after)
    };
    st.merchants
        .keys()
        .filter(|m| due(st.side(Some(m.as_str()))))
        .cloned()
        .collect()
}

/// Clears the in-progress flag of a scheduled rotation when dropped, so that a request whose
/// future is dropped mid-rotation (the client went away) does not stop the schedule for good.
struct RotatingGuard<'a>(&'a AtomicBool);

impl Drop for RotatingGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Runs the automatic rotation schedule, if one is configured and due. One request at a time
/// rotates; the others carry on with the current certificate.
pub(crate) async fn housekeeping(app: &Shared) {
    if rotations_due(app).is_empty() || app.rotating.swap(true, Ordering::SeqCst) {
        return;
    }
    let _guard = RotatingGuard(&app.rotating);
    // Asked again under the flag: another request may have rotated in between.
    for mchid in rotations_due(app) {
        let request = RotateRequest {
            mchid: Some(mchid),
            ..RotateRequest::default()
        };
        if let Err(e) = rotate(app, &request).await {
            tracing::warn!(error = %e, "scheduled platform certificate rotation failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;
    use crate::identity::Identities;
    use crate::{Sandbox, SandboxConfig};

    #[tokio::test]
    async fn a_scheduled_rotation_dropped_mid_way_does_not_stop_the_schedule() {
        let sandbox = Sandbox::start(SandboxConfig {
            identities: Some(Identities::generate(SystemClock.now(), 86_400 * 365).unwrap()),
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        let app = sandbox.control().app;
        sandbox
            .update_settings(&serde_json::json!({"auto_rotate_after_secs": 3600}))
            .unwrap();
        sandbox.advance_clock(7200).unwrap();
        // One poll starts the rotation (key generation runs on a blocking thread); then the
        // request future is dropped, as when the client disconnects.
        assert!(housekeeping(&app).now_or_never().is_none());
        assert!(!app.rotating.load(Ordering::SeqCst), "flag cleared on drop");
        housekeeping(&app).await;
        assert_eq!(
            sandbox.platform_certificates().len(),
            2,
            "the schedule still runs"
        );
    }
}
