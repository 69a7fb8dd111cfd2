//! What the dashboard, the API and the sweep read back.

use super::update::decode;
use super::values::*;
use super::Layout;
use crate::keys::*;
use crate::model::{LogEntry, Note, ServiceState, Transition};
use crate::store::{Store, StoreError};

impl Layout {
    /// A service's delivery log, newest first.
    pub fn deliveries<S: Store>(
        &self,
        store: &S,
        id: &str,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let mut records = decode::<TransitionLog>(store.get(&transitions_key(id))?)
            .unwrap_or_default()
            .deliveries;
        records.reverse();
        Ok(records)
    }

    /// States of many services in one batch read, in the order given.
    pub fn states<S: Store>(
        &self,
        store: &S,
        ids: &[&str],
    ) -> Result<Vec<Option<ServiceState>>, StoreError> {
        let keys: Vec<String> = ids.iter().map(|id| state_key(id)).collect();
        Ok(store.get_many(&keys)?.into_iter().map(decode).collect())
    }

    /// Histories of many services in one batch read, in the order given.
    pub fn histories<S: Store>(
        &self,
        store: &S,
        ids: &[&str],
    ) -> Result<Vec<Vec<Transition>>, StoreError> {
        Ok(self
            .transition_logs(store, ids)?
            .into_iter()
            .map(|log| log.transitions)
            .collect())
    }

    /// Transitions and delivery records of many services in one batch read, in the order given.
    pub fn transition_logs<S: Store>(
        &self,
        store: &S,
        ids: &[&str],
    ) -> Result<Vec<TransitionLog>, StoreError> {
        let keys: Vec<String> = ids.iter().map(|id| transitions_key(id)).collect();
        Ok(store
            .get_many(&keys)?
            .into_iter()
            .map(|b| decode::<TransitionLog>(b).unwrap_or_default())
            .collect())
    }

    /// The newest `max_log_entries` heartbeats of a service, newest first.
    pub fn log<S: Store>(&self, store: &S, id: &str) -> Result<Vec<LogEntry>, StoreError> {
        let keys: Vec<String> = (0..LOG_SLOTS).map(|slot| log_key(id, slot)).collect();
        let mut entries: Vec<LogEntry> = store
            .get_many(&keys)?
            .into_iter()
            .filter_map(decode::<LogChunk>)
            .flat_map(|c| c.entries)
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.seq));
        entries.truncate(self.max_log_entries);
        Ok(entries)
    }

    /// The pauses of many services in one batch read, in the order given.
    pub fn pauses<S: Store>(
        &self,
        store: &S,
        ids: &[&str],
    ) -> Result<Vec<Option<Pause>>, StoreError> {
        let keys: Vec<String> = ids.iter().map(|id| pause_key(id)).collect();
        Ok(store.get_many(&keys)?.into_iter().map(decode).collect())
    }

    /// A service's notes, oldest first.
    pub fn notes<S: Store>(&self, store: &S, id: &str) -> Result<Vec<Note>, StoreError> {
        Ok(decode::<NoteLog>(store.get(&notes_key(id))?)
            .unwrap_or_default()
            .notes)
    }

    /// The alert log, newest first.
    pub fn alert_log<S: Store>(&self, store: &S) -> Result<Vec<AlertRecord>, StoreError> {
        let mut entries = decode::<AlertLog>(store.get(ALERT_LOG_KEY)?)
            .unwrap_or_default()
            .entries;
        entries.reverse();
        Ok(entries)
    }
}
