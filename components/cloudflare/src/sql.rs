//! heartbeat-core's [`Rows`] in the Durable Object's SQLite database: one table, a row per
//! service (see `heartbeat_core::store::rows` for why), written in the object's implicit
//! transaction — everything one request writes before it next waits commits together.

use heartbeat_core::store::rows::Rows;
use heartbeat_core::store::StoreError;
use worker::{SqlStorage, SqlStorageValue};

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
        let mut found = std::collections::HashMap::with_capacity(names.len());
        // One query whatever the number of rows: the names go in as one JSON array
        // (`json_each`), not as one bound parameter each (a read of every service's row would
        // otherwise take a query per hundred).
        let list = serde_json::to_string(names).map_err(|e| StoreError(e.to_string()))?;
        let cursor = self
            .sql
            .exec(
                "SELECT name, value FROM rows WHERE name IN (SELECT value FROM json_each(?))",
                Some(vec![list.into()]),
            )
            .map_err(fault)?;
        for row in cursor.raw() {
            let mut row = row.map_err(fault)?.into_iter();
            if let (Some(SqlStorageValue::String(name)), Some(SqlStorageValue::Blob(value))) =
                (row.next(), row.next())
            {
                found.insert(name, value);
            }
        }
        // Moved out rather than copied, unless a name is asked for twice.
        let unique = names.iter().collect::<std::collections::HashSet<_>>().len() == names.len();
        Ok(names
            .iter()
            .map(|n| match unique {
                true => found.remove(n),
                false => found.get(n).cloned(),
            })
            .collect())
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
