//! The [`Store`] port over a table of rows, for hosts that bill by rows written — the
//! Cloudflare Worker's SQLite Durable Object (Free plan: 100,000 rows written a day).
//!
//! An ordinary heartbeat writes three keys (`seq`, a log chunk, `state`). Stored one key per
//! row, 100 services beating every two minutes would write 216,000 rows a day. So the keys a
//! heartbeat touches share a row: everything under `svc/{id}/` except `flips` and
//! `deliveries` (90 days of transitions and the delivery log, written only on a transition or a
//! delivery) lives in the row `svc/{id}`, and every other key is a row of its own. Writes are kept in memory and written back by [`Grouped::flush`],
//! one row per changed row; the host flushes before it waits for anything (a vendor call), so
//! that — on a host that runs one request at a time between waits, as a Durable Object does —
//! compare-and-swap against the cached rows is exact.

use super::{Store, StoreError};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

/// A row as read: shared, so a host that keeps rows between requests hands them out without
/// copying (a service's row holds its log chunks too).
pub type RowBytes = Rc<[u8]>;

/// A table of named byte rows.
pub trait Rows {
    /// The rows named `names`, in the same order (`None`: no such row).
    fn read(&self, names: &[String]) -> Result<Vec<Option<RowBytes>>, StoreError>;
    /// Write each row, or delete it when the value is `None`, all or nothing.
    fn write(&self, rows: &[(String, Option<Vec<u8>>)]) -> Result<(), StoreError>;
}

/// Rows shared by several stores (one per request) in tests and simulations.
impl<R: Rows> Rows for &R {
    fn read(&self, names: &[String]) -> Result<Vec<Option<RowBytes>>, StoreError> {
        (*self).read(names)
    }

    fn write(&self, rows: &[(String, Option<Vec<u8>>)]) -> Result<(), StoreError> {
        (*self).write(rows)
    }
}

/// The row a key lives in, and its field there (borrowed from the key: a fleet-wide read
/// locates thousands).
pub fn locate(key: &str) -> (&str, &str) {
    use crate::keys::{APART_FIELDS, SERVICE_PREFIX};
    if let Some(rest) = key.strip_prefix(SERVICE_PREFIX) {
        if let Some((id, field)) = rest.split_once('/') {
            if !APART_FIELDS.contains(&field) {
                return (&key[..SERVICE_PREFIX.len() + id.len()], field);
            }
        }
    }
    (key, "")
}

/// A row's fields: field name → value.
type Fields = BTreeMap<String, Vec<u8>>;

/// `[u32 name length][name][u32 value length][value]…`, little-endian.
fn encode(fields: &Fields) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        out.extend_from_slice(value);
    }
    out
}

/// The next length-prefixed piece of a stored row.
fn take<'a>(bytes: &mut &'a [u8]) -> Result<&'a [u8], StoreError> {
    let corrupt = || StoreError("a stored row is corrupt".into());
    let (len, rest) = bytes.split_first_chunk::<4>().ok_or_else(corrupt)?;
    let len = u32::from_le_bytes(*len) as usize;
    let (value, rest) = rest.split_at_checked(len).ok_or_else(corrupt)?;
    *bytes = rest;
    Ok(value)
}

fn decode(mut bytes: &[u8]) -> Result<Fields, StoreError> {
    let mut fields = Fields::new();
    while !bytes.is_empty() {
        let name = String::from_utf8_lossy(take(&mut bytes)?).into_owned();
        let value = take(&mut bytes)?.to_vec();
        fields.insert(name, value);
    }
    Ok(fields)
}

/// A cached row: as stored until something in it changes, then its fields. A read copies out
/// only the field it asks for — a fleet-wide read wants each service's `state`, not the five
/// log chunks beside it.
enum Row {
    Stored(RowBytes),
    Fields(Fields),
}

impl Row {
    fn field(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut bytes: &[u8] = match self {
            Row::Fields(fields) => return Ok(fields.get(name).cloned()),
            Row::Stored(bytes) => bytes,
        };
        while !bytes.is_empty() {
            let (field, value) = (take(&mut bytes)?, take(&mut bytes)?);
            if field == name.as_bytes() {
                return Ok(Some(value.to_vec()));
            }
        }
        Ok(None)
    }

    fn fields_mut(&mut self) -> Result<&mut Fields, StoreError> {
        if let Row::Stored(bytes) = self {
            *self = Row::Fields(decode(bytes)?);
        }
        match self {
            Row::Fields(fields) => Ok(fields),
            Row::Stored(_) => unreachable!("decoded above"),
        }
    }

    /// The row to write back; `None` deletes it.
    fn encoded(&self) -> Option<Vec<u8>> {
        match self {
            Row::Stored(bytes) => Some(bytes.to_vec()),
            Row::Fields(fields) if fields.is_empty() => None,
            Row::Fields(fields) => Some(encode(fields)),
        }
    }
}

/// A write-back [`Store`] over [`Rows`].
pub struct Grouped<R: Rows> {
    rows: R,
    /// Rows read or written since the last flush.
    cache: RefCell<HashMap<String, Row>>,
    dirty: RefCell<BTreeSet<String>>,
}

/// A CAS handle: the key and the value it held.
#[derive(Debug)]
pub struct GroupedCas {
    key: String,
    seen: Option<Vec<u8>>,
}

impl<R: Rows> Grouped<R> {
    pub fn new(rows: R) -> Self {
        Grouped {
            rows,
            cache: RefCell::default(),
            dirty: RefCell::default(),
        }
    }

    pub fn rows(&self) -> &R {
        &self.rows
    }

    /// Write every changed row back, then forget the cache so that what other requests write
    /// meanwhile is seen.
    pub fn flush(&self) -> Result<(), StoreError> {
        let dirty = std::mem::take(&mut *self.dirty.borrow_mut());
        let mut cache = self.cache.borrow_mut();
        let writes: Vec<_> = dirty
            .into_iter()
            .map(|name| {
                let value = cache.get(&name).and_then(Row::encoded);
                (name, value)
            })
            .collect();
        cache.clear();
        if writes.is_empty() {
            return Ok(());
        }
        self.rows.write(&writes)
    }

    /// Make sure the rows named are cached.
    fn load(&self, names: &[&str]) -> Result<(), StoreError> {
        let missing: Vec<String> = {
            let cache = self.cache.borrow();
            let mut seen = HashSet::new();
            names
                .iter()
                .filter(|n| !cache.contains_key(**n) && seen.insert(**n))
                .map(|n| n.to_string())
                .collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let values = self.rows.read(&missing)?;
        let mut cache = self.cache.borrow_mut();
        for (name, value) in missing.into_iter().zip(values) {
            let row = match value {
                Some(bytes) => Row::Stored(bytes),
                None => Row::Fields(Fields::new()),
            };
            cache.insert(name, row);
        }
        Ok(())
    }

    fn update(&self, key: &str, value: Option<&[u8]>) -> Result<(), StoreError> {
        let (row, field) = locate(key);
        self.load(&[row])?;
        let mut cache = self.cache.borrow_mut();
        let fields = cache
            .entry(row.to_string())
            .or_insert_with(|| Row::Fields(Fields::new()))
            .fields_mut()?;
        match value {
            Some(v) => fields.insert(field.to_string(), v.to_vec()),
            None => fields.remove(field),
        };
        self.dirty.borrow_mut().insert(row.to_string());
        Ok(())
    }
}

impl<R: Rows> Store for Grouped<R> {
    type Cas = GroupedCas;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.get_many(&[key.to_string()])?.remove(0))
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let located: Vec<_> = keys.iter().map(|k| locate(k)).collect();
        let names: Vec<&str> = located.iter().map(|(row, _)| *row).collect();
        self.load(&names)?;
        let cache = self.cache.borrow();
        located
            .iter()
            .map(|(row, field)| match cache.get(*row) {
                Some(row) => row.field(field),
                None => Ok(None),
            })
            .collect()
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.update(key, Some(value))
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.update(key, None)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        let next = super::counter(self.get(key)?.as_deref()) + delta;
        self.update(key, Some(&next.to_le_bytes()))?;
        Ok(next)
    }

    fn cas(&self, key: &str) -> Result<(GroupedCas, Option<Vec<u8>>), StoreError> {
        let seen = self.get(key)?;
        let cas = GroupedCas {
            key: key.to_string(),
            seen: seen.clone(),
        };
        Ok((cas, seen))
    }

    fn swap(&self, cas: GroupedCas, value: &[u8]) -> Result<bool, StoreError> {
        if self.get(&cas.key)? != cas.seen {
            return Ok(false);
        }
        self.set(&cas.key, value)?;
        Ok(true)
    }
}

/// Rows in memory, counting what a host would be billed for.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Default)]
pub struct MemoryRows {
    data: RefCell<HashMap<String, Vec<u8>>>,
    pub rows_read: std::cell::Cell<u64>,
    pub rows_written: std::cell::Cell<u64>,
}

#[cfg(any(test, feature = "testing"))]
impl Rows for MemoryRows {
    fn read(&self, names: &[String]) -> Result<Vec<Option<RowBytes>>, StoreError> {
        let data = self.data.borrow();
        let values: Vec<_> = names
            .iter()
            .map(|n| data.get(n).map(|v| RowBytes::from(v.as_slice())))
            .collect();
        let found = values.iter().flatten().count() as u64;
        self.rows_read.set(self.rows_read.get() + found);
        Ok(values)
    }

    fn write(&self, rows: &[(String, Option<Vec<u8>>)]) -> Result<(), StoreError> {
        let mut data = self.data.borrow_mut();
        for (name, value) in rows {
            match value {
                Some(v) => data.insert(name.clone(), v.clone()),
                None => data.remove(name),
            };
        }
        self.rows_written
            .set(self.rows_written.get() + rows.len() as u64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_a_heartbeat_writes_share_the_service_row() {
        assert_eq!(locate("svc/a/state"), ("svc/a", "state"));
        assert_eq!(locate("svc/a/log/3"), ("svc/a", "log/3"));
        assert_eq!(locate("svc/a/flips"), ("svc/a/flips", ""));
        assert_eq!(locate("svc/a/deliveries"), ("svc/a/deliveries", ""));
        assert_eq!(locate("sweep/last"), ("sweep/last", ""));
    }

    #[test]
    fn writes_stay_in_memory_until_flushed_and_then_cost_one_row_each() {
        let store = Grouped::new(MemoryRows::default());
        store.increment("svc/a/seq", 1).unwrap();
        store.set("svc/a/state", b"{}").unwrap();
        store.set("svc/a/log/0", b"[]").unwrap();
        assert_eq!(store.rows().rows_written.get(), 0);
        store.flush().unwrap();
        assert_eq!(store.rows().rows_written.get(), 1);
        assert_eq!(
            store.get("svc/a/state").unwrap().as_deref(),
            Some(&b"{}"[..])
        );
        assert_eq!(store.increment("svc/a/seq", 2).unwrap(), 3);
        store.flush().unwrap();
        store.flush().unwrap();
        assert_eq!(
            store.rows().rows_written.get(),
            2,
            "an empty flush writes nothing"
        );
    }

    #[test]
    fn compare_and_swap_fails_once_the_value_changed_even_across_flushes() {
        let store = Grouped::new(MemoryRows::default());
        let (stale, seen) = store.cas("svc/a/state").unwrap();
        assert_eq!(seen, None);
        let (fresh, _) = store.cas("svc/a/state").unwrap();
        assert!(store.swap(fresh, b"1").unwrap());
        store.flush().unwrap();
        assert!(!store.swap(stale, b"2").unwrap(), "an absent key is absent");
        assert_eq!(
            store.get("svc/a/state").unwrap().as_deref(),
            Some(&b"1"[..])
        );
    }

    #[test]
    fn deleting_the_last_field_deletes_the_row() {
        let store = Grouped::new(MemoryRows::default());
        store.set("svc/a/paused", b"x").unwrap();
        store.flush().unwrap();
        store.delete("svc/a/paused").unwrap();
        store.flush().unwrap();
        assert!(store.rows().data.borrow().is_empty());
    }

    #[test]
    fn a_corrupt_row_is_an_error_not_a_panic() {
        let rows = MemoryRows::default();
        rows.write(&[("svc/a".into(), Some(vec![9, 0, 0, 0, b'x']))])
            .unwrap();
        let store = Grouped::new(rows);
        assert!(store.get("svc/a/state").is_err());
    }

    #[test]
    fn a_read_takes_its_field_and_a_write_keeps_the_others() {
        let rows = MemoryRows::default();
        let store = Grouped::new(&rows);
        let chunk = vec![b'l'; 8_000];
        store.set("svc/a/log/0", &chunk).unwrap();
        store.set("svc/a/state", b"up").unwrap();
        store.flush().unwrap();

        let store = Grouped::new(&rows);
        let keys = ["svc/a/state", "svc/a/paused", "svc/b/state"].map(String::from);
        assert_eq!(
            store.get_many(&keys).unwrap(),
            [Some(b"up".to_vec()), None, None]
        );
        store.set("svc/a/seq", b"7").unwrap();
        store.flush().unwrap();
        let store = Grouped::new(&rows);
        assert_eq!(store.get("svc/a/log/0").unwrap(), Some(chunk));
        assert_eq!(store.get("svc/a/state").unwrap(), Some(b"up".to_vec()));
        assert_eq!(store.get("svc/a/seq").unwrap(), Some(b"7".to_vec()));
    }
}
