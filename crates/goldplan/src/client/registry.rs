//! [`ClientRegistry`]: the clients of many merchants in one process, keyed by mchid.

use std::collections::HashMap;
use std::sync::RwLock;

use super::Client;

/// Clients for many merchants in one process, keyed by mchid. No process globals: create one
/// registry and share it.
#[derive(Debug, Default)]
pub struct ClientRegistry {
    clients: RwLock<HashMap<String, Client>>,
}

impl ClientRegistry {
    /// An empty registry.
    pub fn new() -> ClientRegistry {
        ClientRegistry::default()
    }

    /// Adds or replaces the client for its mchid.
    pub fn insert(&self, client: Client) {
        let mut map = self.clients.write().unwrap_or_else(|p| p.into_inner());
        map.insert(client.mchid().to_owned(), client);
    }

    /// The client for `mchid`.
    pub fn get(&self, mchid: &str) -> Option<Client> {
        let map = self.clients.read().unwrap_or_else(|p| p.into_inner());
        map.get(mchid).cloned()
    }

    /// Removes the client for `mchid`.
    pub fn remove(&self, mchid: &str) -> Option<Client> {
        let mut map = self.clients.write().unwrap_or_else(|p| p.into_inner());
        map.remove(mchid)
    }

    /// The merchant ids held.
    pub fn mchids(&self) -> Vec<String> {
        let map = self.clients.read().unwrap_or_else(|p| p.into_inner());
        map.keys().cloned().collect()
    }
}
