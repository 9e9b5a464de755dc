//! Callbacks (spec §4) with the client's keys: verification by its verifier (refreshing
//! certificates once for a serial not held yet), decryption with its APIv3 key.

use std::sync::Arc;

use super::Client;
use super::certificate_manager::RefreshTrigger;
use super::exchange::serial_of;
use crate::error::{Error, Result};
use crate::notification::{Notification, NotificationParser, ReplayGuard};

impl Client {
    /// A callback parser bound to this client's verifier, APIv3 key and clock.
    pub fn notification_parser(&self) -> Result<NotificationParser> {
        let key =
            self.settings.apiv3_key.clone().ok_or_else(|| {
                Error::Configuration("parsing callbacks needs the APIv3 key".into())
            })?;
        Ok(NotificationParser::new(self.process.verifier.clone(), key)
            .with_policy(self.settings.policy.clone()))
    }

    /// Verifies and decrypts a callback (spec §4.2), refreshing certificates once when it is
    /// signed by a certificate this client does not hold yet.
    pub async fn parse_notification<N, V>(
        &self,
        headers: impl IntoIterator<Item = (N, V)>,
        body: &[u8],
        replay_guard: Option<Arc<dyn ReplayGuard>>,
    ) -> Result<Notification>
    where
        N: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let pairs: Vec<(String, Vec<u8>)> = headers
            .into_iter()
            .map(|(n, v)| (n.as_ref().to_owned(), v.as_ref().to_vec()))
            .collect();
        let mut parser = self.notification_parser()?;
        if let Some(guard) = replay_guard {
            parser = parser.with_replay_guard(guard);
        }
        match parser.parse(pairs.iter().map(|(n, v)| (n, v)), body) {
            Err(e) if self.should_refresh_for(&e, serial_of(&e)) => {
                if let Err(refresh) = self.refresh_if_allowed(RefreshTrigger::UnknownSerial).await {
                    tracing::warn!(error = %refresh, "certificate refresh for a callback failed");
                }
                parser.parse(pairs.iter().map(|(n, v)| (n, v)), body)
            }
            other => other,
        }
    }
}
