//! heartbeat-core's [`Rows`] in the Durable Object's SQLite database: one table, a row per
//! service (see `heartbeat_core::store::rows` for why), written in the object's implicit
//! transaction — everything one request writes before it next waits commits together.
//!
//! A Durable Object is the only writer of its storage, so what it last read or wrote of a row
//! is what the table holds: the object keeps those rows ([`RowCache`]) from one request to the
//! next, and a read of the whole fleet (the dashboard, the cron sweep) costs no query once the
//! rows are known. Pulling a row out of SQLite into the Worker costs about 10 µs; at 1,000
//! services that was most of a fleet-wide request's CPU time.

use heartbeat_core::store::rows::{RowBytes, Rows};
use heartbeat_core::store::StoreError;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use worker::{SqlStorage, SqlStorageValue};

/// Bytes of rows kept between requests; past this the cache starts again (a Durable Object has
/// 128 MB of memory).
const CACHE_BYTES: usize = 32 << 20;

/// Rows as the table holds them (`None`: no such row), kept for the object's lifetime. Reads
/// and writes never wait while they use it, so requests cannot interleave inside one.
#[derive(Default)]
pub struct RowCache {
    rows: RefCell<HashMap<String, Option<RowBytes>>>,
    bytes: Cell<usize>,
}

impl RowCache {
    fn keep(&self, name: String, value: Option<Vec<u8>>) {
        let value = value.map(RowBytes::from);
        let size =
            |name: &str, v: &Option<RowBytes>| name.len() + v.as_ref().map_or(0, |v| v.len());
        let mut rows = self.rows.borrow_mut();
        let new = size(&name, &value);
        if self.bytes.get() + new > CACHE_BYTES {
            rows.clear();
            self.bytes.set(0);
        }
        let old = rows.get(&name).map_or(0, |v| size(&name, v));
        rows.insert(name, value);
        self.bytes.set(self.bytes.get() - old + new);
    }

    fn forget(&self) {
        self.rows.borrow_mut().clear();
        self.bytes.set(0);
    }
}

pub struct SqlRows<'c> {
    sql: SqlStorage,
    cache: &'c RowCache,
}

fn fault(e: worker::Error) -> StoreError {
    StoreError(e.to_string())
}

impl SqlRows<'_> {
    /// The table, created on first use.
    pub fn open(sql: SqlStorage, cache: &RowCache) -> Result<SqlRows<'_>, StoreError> {
        sql.exec(
            "CREATE TABLE IF NOT EXISTS rows (name TEXT PRIMARY KEY, value BLOB NOT NULL) \
             WITHOUT ROWID",
            None,
        )
        .map_err(fault)?;
        Ok(SqlRows { sql, cache })
    }

    /// Read `names` from the table into the cache.
    fn fetch(&self, names: &[&String]) -> Result<(), StoreError> {
        // One query whatever the number of rows: the names go in as one JSON array
        // (`json_each`), not as one bound parameter each.
        let list = serde_json::to_string(names).map_err(|e| StoreError(e.to_string()))?;
        let cursor = self
            .sql
            .exec(
                "SELECT name, value FROM rows WHERE name IN (SELECT value FROM json_each(?))",
                Some(vec![list.into()]),
            )
            .map_err(fault)?;
        let mut found = HashMap::with_capacity(names.len());
        for row in cursor.raw() {
            let mut row = row.map_err(fault)?.into_iter();
            if let (Some(SqlStorageValue::String(name)), Some(SqlStorageValue::Blob(value))) =
                (row.next(), row.next())
            {
                found.insert(name, value);
            }
        }
        for name in names {
            let value = found.remove(*name);
            self.cache.keep((*name).clone(), value);
        }
        Ok(())
    }
}

impl Rows for SqlRows<'_> {
    fn read(&self, names: &[String]) -> Result<Vec<Option<RowBytes>>, StoreError> {
        let missing: Vec<&String> = {
            let rows = self.cache.rows.borrow();
            let mut seen = HashSet::new();
            names
                .iter()
                .filter(|n| !rows.contains_key(*n) && seen.insert(*n))
                .collect()
        };
        if !missing.is_empty() {
            self.fetch(&missing)?;
        }
        self.read_cached(names)
    }

    fn write(&self, rows: &[(String, Option<Vec<u8>>)]) -> Result<(), StoreError> {
        for (name, value) in rows {
            let written = match value {
                Some(value) => self.sql.exec(
                    "INSERT INTO rows (name, value) VALUES (?, ?) \
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    Some(vec![name.as_str().into(), value.clone().into()]),
                ),
                None => self.sql.exec(
                    "DELETE FROM rows WHERE name = ?",
                    Some(vec![name.as_str().into()]),
                ),
            };
            if let Err(e) = written {
                // What the table holds after a failed write is not known here.
                self.cache.forget();
                return Err(fault(e));
            }
            self.cache.keep(name.clone(), value.clone());
        }
        Ok(())
    }
}

impl SqlRows<'_> {
    /// `names` from the cache; one the cache let go of since (it started again) is read from
    /// the table alone.
    fn read_cached(&self, names: &[String]) -> Result<Vec<Option<RowBytes>>, StoreError> {
        names
            .iter()
            .map(|n| {
                if let Some(v) = self.cache.rows.borrow().get(n) {
                    return Ok(v.clone());
                }
                self.fetch(&[n])?;
                Ok(self.cache.rows.borrow().get(n).cloned().flatten())
            })
            .collect()
    }
}
