//! What the dashboard, the API and the sweep read back.

use super::encoding::{shown_history, shown_state};
use super::update::{batch, batch_read, decode};
use super::values::*;
use super::Layout;
use crate::keys::*;
use crate::model::{LogEntry, Note, ServiceState, Transition};
use crate::store::{Store, StoreError};

/// One value per service, in the order asked for (`None`: never written).
type Batch<T> = Result<Vec<Option<T>>, StoreError>;

impl Layout {
    /// A service's delivery log, newest first: from its own key, or, until the service's next
    /// delivery moves it there, from among its transitions where older releases kept it.
    pub fn deliveries<S: Store>(
        &self,
        store: &S,
        id: &str,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let mut records = match decode::<DeliveryLog>(store.get(&deliveries_key(id))?) {
            Some(log) => log.deliveries,
            None => decode::<TransitionLog>(store.get(&transitions_key(id))?)
                .map(|mut t| t.take_unmoved())
                .unwrap_or_default(),
        };
        records.reverse();
        Ok(records)
    }

    /// States of many services in one batch read, in the order given.
    pub fn states<S: Store>(&self, store: &S, ids: &[&str]) -> Batch<ServiceState> {
        batch(store, ids, state_key)
    }

    /// [`Layout::states`] without the newest heartbeat's metadata (`last_metadata` is
    /// `None`): what the whole-fleet views show, read without parsing up to 4 KiB per service
    /// that they do not.
    pub fn shown_states<S: Store>(&self, store: &S, ids: &[&str]) -> Batch<ServiceState> {
        batch_read(store, ids, state_key, shown_state)
    }

    /// The metadata of a service's newest heartbeat, if it had any.
    pub fn metadata<S: Store>(
        &self,
        store: &S,
        id: &str,
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>, StoreError> {
        Ok(decode::<ServiceState>(store.get(&state_key(id))?).and_then(|s| s.last_metadata))
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

    /// Transitions and delivery counts of many services in one batch read, in the order given.
    pub fn transition_logs<S: Store>(
        &self,
        store: &S,
        ids: &[&str],
    ) -> Result<Vec<TransitionLog>, StoreError> {
        let logs: Vec<Option<TransitionLog>> = batch(store, ids, transitions_key)?;
        Ok(logs.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// [`Layout::transition_logs`] as the whole-fleet views read them ([`ShownHistory`]).
    pub fn shown_histories<S: Store>(
        &self,
        store: &S,
        ids: &[&str],
    ) -> Result<Vec<ShownHistory>, StoreError> {
        let histories = batch_read(store, ids, transitions_key, shown_history)?;
        Ok(histories
            .into_iter()
            .map(Option::unwrap_or_default)
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
    pub fn pauses<S: Store>(&self, store: &S, ids: &[&str]) -> Batch<Pause> {
        batch(store, ids, pause_key)
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
