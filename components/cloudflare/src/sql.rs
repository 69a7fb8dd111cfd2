//! heartbeat-core's [`Rows`] in the Durable Object's SQLite database: one table, a row per
//! service (see `heartbeat_core::store::rows` for why), written in the object's implicit
//! transaction — everything one request writes before it next waits commits together.

use heartbeat_core::store::rows::Rows;
use heartbeat_core::store::StoreError;
use worker::{SqlStorage, SqlStorageValue};

/// SQLite's default limit on bound parameters is far above this; Durable Objects document 100.
const MAX_BOUND: usize = 100;

pub struct SqlRows {
    sql: SqlStorage,
}

fn fault(e: worker::Error) -> StoreError {
    StoreError(e.to_string())
}

impl SqlRows {
    /// The table, created on first use.
    pub fn open(sql: SqlStorage) -> Result<SqlRows, StoreError> {
        sql.exec(
            "CREATE TABLE IF NOT EXISTS rows (name TEXT PRIMARY KEY, value BLOB NOT NULL) \
             WITHOUT ROWID",
            None,
        )
        .map_err(fault)?;
        Ok(SqlRows { sql })
    }
}

impl Rows for SqlRows {
    fn read(&self, names: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let mut found = std::collections::HashMap::new();
        for chunk in names.chunks(MAX_BOUND) {
            let marks = vec!["?"; chunk.len()].join(",");
            let query = format!("SELECT name, value FROM rows WHERE name IN ({marks})");
            let bindings = chunk.iter().map(|n| n.as_str().into()).collect();
            let cursor = self.sql.exec(&query, Some(bindings)).map_err(fault)?;
            for row in cursor.raw() {
                let mut row = row.map_err(fault)?.into_iter();
                if let (Some(SqlStorageValue::String(name)), Some(SqlStorageValue::Blob(value))) =
                    (row.next(), row.next())
                {
                    found.insert(name, value);
                }
            }
        }
        Ok(names.iter().map(|n| found.get(n).cloned()).collect())
    }

    fn write(&self, rows: &[(String, Option<Vec<u8>>)]) -> Result<(), StoreError> {
        for (name, value) in rows {
            match value {
                Some(value) => self.sql.exec(
                    "INSERT INTO rows (name, value) VALUES (?, ?) \
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    Some(vec![name.as_str().into(), value.clone().into()]),
                ),
                None => self.sql.exec(
                    "DELETE FROM rows WHERE name = ?",
                    Some(vec![name.as_str().into()]),
                ),
            }
            .map_err(fault)?;
        }
        Ok(())
    }
}
