//! `wasi:keyvalue` on Redis or Valkey — the engine Spin's `type = "redis"` key-value store uses —
//! so several heartbeat-host instances (or heartbeat-host next to `spin up`) share one state.
//! Keys of the `default` store are stored as they are, as Spin stores them; counters are Redis
//! integers (`INCRBY`). Compare-and-swap is one server-side script, so it is atomic across every
//! client of the server.
//!
//! With [`SpinRedis`] it behaves as Spin 4.0.2's Redis store does instead (its
//! `crates/key-value-redis/src/store.rs`), sending the same commands to the real server: a batch
//! read is `KEYS` with the key list, and a compare-and-swap is a connection of its own that
//! `WATCH`es the key in `current` and swaps with `MULTI / SET / EXEC` — followed by
//! `UNWATCH <key>` as released, or a bare `UNWATCH` as it would be with that mended.
//!
//! Every operation has a deadline. A lost connection is an error the guest sees (the API answers
//! 503), never a silent success: a broken connection is dropped, and the next operation dials
//! again, so service resumes by itself when Redis is back.

use super::{Backend, Watch};
use anyhow::{Context, Result};
use redis::{Commands, Connection, RedisResult, Script};
use std::sync::Mutex;
use std::time::Duration;

/// How long one operation may wait for Redis, connecting included.
const DEADLINE: Duration = Duration::from_secs(2);

/// Connections kept open for reuse.
const IDLE_CONNECTIONS: usize = 16;

/// Write `ARGV[3]` if the key holds `ARGV[2]` (or is absent, when `ARGV[1]` is "absent").
const CAS: &str = r"
local current = redis.call('GET', KEYS[1])
if ARGV[1] == 'absent' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3])
return 1
";

/// Which of Spin 4.0.2's Redis compare-and-swap behaviours to reproduce (also the values of
/// `heartbeat-host up --spin-redis`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SpinRedis {
    /// As released: `UNWATCH <key>` after the `EXEC` is an error, so every swap reports
    /// failure, also the ones that wrote.
    AsReleased,
    /// With a bare `UNWATCH`: the `EXEC` reply is read as `()`, so a swap a concurrent writer
    /// aborted reports success.
    UnwatchMended,
}

pub struct RedisBackend {
    client: redis::Client,
    spin: Option<SpinRedis>,
    /// The URL without credentials, for messages.
    shown: String,
    idle: Mutex<Vec<Connection>>,
    cas: Script,
}

/// `redis://user:secret@host:6379/0` → `redis://host:6379/0`: passwords never reach a log.
pub fn without_credentials(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://{}", &url[at + 1..]),
        _ => url.to_string(),
    }
}

impl RedisBackend {
    /// Connect to `url` (`redis://`, `rediss://` or `unix://`) and check the server answers.
    pub fn open(url: &str) -> Result<RedisBackend> {
        let shown = without_credentials(url);
        let client =
            redis::Client::open(url).with_context(|| format!("invalid Redis URL {shown}"))?;
        let backend = RedisBackend {
            client,
            spin: None,
            shown,
            idle: Mutex::new(Vec::new()),
            cas: Script::new(CAS),
        };
        backend
            .with(true, |c| redis::cmd("PING").query::<String>(c))
            .with_context(|| format!("cannot reach Redis at {}", backend.shown))?;
        Ok(backend)
    }

    /// Behave as Spin 4.0.2's Redis store, in the given way.
    pub fn as_spin(self, spin: SpinRedis) -> RedisBackend {
        RedisBackend {
            spin: Some(spin),
            ..self
        }
    }

    pub fn url(&self) -> &str {
        &self.shown
    }

    fn connect(&self) -> RedisResult<Connection> {
        let conn = self.client.get_connection_with_timeout(DEADLINE)?;
        conn.set_read_timeout(Some(DEADLINE))?;
        conn.set_write_timeout(Some(DEADLINE))?;
        Ok(conn)
    }

    /// Run `op` on a pooled connection. After a failure every idle connection is dropped — an
    /// outage breaks them all, and each would fail one more request — and the next operation
    /// dials afresh. `idempotent` operations (reads, plain writes) are retried once on a fresh
    /// connection; an increment or compare-and-swap is not, since the lost reply may hide a
    /// write that happened.
    fn with<T>(
        &self,
        idempotent: bool,
        op: impl Fn(&mut Connection) -> RedisResult<T>,
    ) -> Result<T> {
        let pooled = self.idle.lock().unwrap().pop();
        let first = pooled.map(|mut conn| op(&mut conn).map(|v| (v, conn)));
        let outcome = match first {
            Some(Ok(done)) => Ok(done),
            Some(Err(e)) => {
                self.idle.lock().unwrap().clear();
                if idempotent {
                    self.fresh(&op)
                } else {
                    Err(e)
                }
            }
            None => self.fresh(&op),
        };
        match outcome {
            Ok((value, conn)) => {
                let mut idle = self.idle.lock().unwrap();
                if idle.len() < IDLE_CONNECTIONS {
                    idle.push(conn);
                }
                Ok(value)
            }
            Err(e) => Err(anyhow::Error::new(e).context(format!("Redis at {} failed", self.shown))),
        }
    }

    fn fresh<T>(
        &self,
        op: &impl Fn(&mut Connection) -> RedisResult<T>,
    ) -> RedisResult<(T, Connection)> {
        let mut conn = self.connect()?;
        op(&mut conn).map(|v| (v, conn))
    }

    /// The `default` store's keys are Redis keys as they are (Spin's layout, so it lists the
    /// whole database); any other store label is a prefix.
    fn key(store: &str, key: &str) -> String {
        if store == "default" {
            key.to_string()
        } else {
            format!("{store}/{key}")
        }
    }
}

impl Backend for RedisBackend {
    fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let k = Self::key(store, key);
        self.with(true, |c| redis::cmd("GET").arg(&k).query(c))
    }

    fn set(&self, store: &str, key: &str, value: &[u8]) -> Result<()> {
        let k = Self::key(store, key);
        self.with(true, |c| redis::cmd("SET").arg(&k).arg(value).query(c))
    }

    fn delete(&self, store: &str, key: &str) -> Result<()> {
        let k = Self::key(store, key);
        self.with(true, |c| redis::cmd("DEL").arg(&k).query(c))
    }

    fn keys(&self, store: &str) -> Result<Vec<String>> {
        let (pattern, strip) = if store == "default" {
            ("*".to_string(), 0)
        } else {
            (format!("{store}/*"), store.len() + 1)
        };
        let keys: Vec<String> = self.with(true, |c| {
            let iter = c.scan_match::<_, String>(&pattern)?;
            iter.collect()
        })?;
        let mut keys: Vec<String> = keys.into_iter().map(|k| k[strip..].to_string()).collect();
        keys.sort();
        Ok(keys)
    }

    fn increment(&self, store: &str, key: &str, delta: i64) -> Result<i64> {
        let k = Self::key(store, key);
        self.with(false, |c| redis::cmd("INCRBY").arg(&k).arg(delta).query(c))
    }

    fn get_many(&self, store: &str, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>> {
        if self.spin.is_none() {
            return super::get_each(self, store, keys);
        }
        // Spin's `get_many`: `.keys::<_, Vec<(String, Option<Vec<u8>>)>>(keys)`, i.e. `KEYS`
        // with every key as an argument, which Redis refuses for more than one.
        let keys: Vec<String> = keys.iter().map(|k| Self::key(store, k)).collect();
        self.with(true, |c| redis::cmd("KEYS").arg(&keys).query(c))
    }

    fn watch(&self, store: &str, key: &str) -> Result<Option<Box<dyn Watch>>> {
        let Some(spin) = self.spin else {
            return Ok(None);
        };
        // Spin opens a connection for every compare-and-swap handle.
        let conn = self.connect().map_err(|e| {
            anyhow::Error::new(e).context(format!("Redis at {} failed", self.shown))
        })?;
        Ok(Some(Box::new(SpinCas {
            conn,
            key: Self::key(store, key),
            spin,
        })))
    }

    fn cas(&self, store: &str, key: &str, expected: Option<&[u8]>, value: &[u8]) -> Result<bool> {
        let k = Self::key(store, key);
        let wrote: i64 = self.with(false, |c| {
            let mut call = self.cas.key(&k);
            match expected {
                None => call.arg("absent").arg(""),
                Some(e) => call.arg("value").arg(e),
            };
            call.arg(value).invoke(c)
        })?;
        Ok(wrote == 1)
    }
}

/// Spin 4.0.2's Redis compare-and-swap handle, command for command.
struct SpinCas {
    conn: Connection,
    key: String,
    spin: SpinRedis,
}

impl Watch for SpinCas {
    fn current(&mut self) -> Result<Option<Vec<u8>>> {
        redis::cmd("WATCH").arg(&self.key).exec(&mut self.conn)?;
        Ok(redis::cmd("GET").arg(&self.key).query(&mut self.conn)?)
    }

    fn swap(&mut self, value: &[u8]) -> Result<bool> {
        // `res: Result<(), RedisError>`: an aborted EXEC answers nil, which `()` accepts.
        let written: RedisResult<()> = redis::pipe()
            .atomic()
            .set(&self.key, value)
            .query(&mut self.conn);
        let mut unwatch = redis::cmd("UNWATCH");
        if self.spin == SpinRedis::AsReleased {
            unwatch.arg(&self.key);
        }
        // Spin maps every error here, the UNWATCH's included, to "compare-and-swap failed".
        Ok(unwatch.exec(&mut self.conn).is_ok() && written.is_ok())
    }
}
