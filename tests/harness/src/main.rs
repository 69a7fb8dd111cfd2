//! `heartbeat-host`: parse flags, run, map errors to exit codes.

use anyhow::Result;
use clap::{Parser, Subcommand};
use heartbeat_host::kv::{AbsentCas, SpinRedis};
use heartbeat_host::manifest::ManifestSource;
use heartbeat_host::runtime::Components;
use heartbeat_host::{
    init, prepare, server, service_key, test_notification, HostOptions, StoreChoice,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "heartbeat-host",
    version,
    about = "Run the heartbeat-monitor components on wasmtime",
    after_help = "Environment:
  SPIN_VARIABLE_<NAME>          a variable of spin.toml (also read from the .env beside it)
  HEARTBEAT_HOST_COMPILE_CACHE  where compiled components are kept between starts, or `off`
                                [default: $XDG_CACHE_HOME/heartbeat-host, else ~/.cache/heartbeat-host]
  RUST_LOG                      what is logged [default: info]"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct AppArgs {
    /// The Spin manifest describing the app [default: ./spin.toml if there is one, else the
    /// one built into heartbeat-host].
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Use this directory for the /config mount instead of the manifest's.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Load the .wasm files from this directory (by file name) instead of the ones built into
    /// heartbeat-host. Use `--components manifest` for the manifest's own `source` paths.
    #[arg(long)]
    components: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Write a starter config/ (one service, one webhook channel) and a .env with a new API
    /// key; files that exist are left as they are.
    Init {
        /// Where to write them.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Validate the configuration and serve the monitor.
    Up {
        #[command(flatten)]
        app: AppArgs,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: SocketAddr,
        /// Directory of the durable SQLite store.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// Keep state in memory only (lost at exit).
        #[arg(long, conflicts_with_all = ["kv", "runtime_config_file"])]
        memory: bool,
        /// Keep state in Redis or Valkey (`redis://127.0.0.1:6379`), shared with every other
        /// instance using it. Overrides the runtime config file.
        #[arg(long, value_name = "URL")]
        kv: Option<String>,
        /// Spin's runtime configuration file; its `[key_value_store.default]` (type "redis" or
        /// "spin") chooses the store, so one file configures both hosts.
        #[arg(long, value_name = "FILE")]
        runtime_config_file: Option<PathBuf>,
        /// Seconds between sweeps; 0 turns the timer off.
        #[arg(long, default_value_t = 60)]
        sweep_every: u64,
        /// Requests that run in components at once; more wait their turn, in arrival order
        /// (a request waiting on its notifications gives its turn back). 0: no limit.
        /// [default: four per CPU core]
        #[arg(long, value_name = "N")]
        max_in_flight: Option<usize>,
        /// Make compare-and-swap on absent keys an upsert, like Spin's default store.
        #[arg(long)]
        spin_like_store: bool,
        /// Make the Redis store behave as Spin 4.0.2's: batch reads fail, and swaps report
        /// failure even when written (`as-released`) or success even when aborted
        /// (`unwatch-mended`, the same code with its UNWATCH mended).
        #[arg(long, value_name = "MODE")]
        spin_redis: Option<SpinRedis>,
    },
    /// Validate the manifest, components and configuration, then exit.
    Check {
        #[command(flatten)]
        app: AppArgs,
        /// Also check the variables against Cloudflare's limits for a Worker (each at most
        /// 5 KB, at most 64 on the Free plan), counting wrangler.toml's [vars].
        #[arg(long)]
        cloudflare: bool,
    },
    /// Print a service's heartbeat key, derived from API_KEY_SECRET (environment or .env).
    Key {
        #[command(flatten)]
        app: AppArgs,
        /// The service's id in services.json.
        service: String,
        /// Print its push token (for /api/push/TOKEN) instead.
        #[arg(long)]
        push: bool,
    },
    /// Send a test notification to one channel through the real notifiers component.
    NotifyTest {
        #[command(flatten)]
        app: AppArgs,
        /// The channel's `name` in notifications.json.
        #[arg(long)]
        channel: String,
        /// Which event to simulate: down, up or degraded.
        #[arg(long, default_value = "down")]
        event: String,
    },
}

fn options(app: &AppArgs) -> HostOptions {
    let mut o = HostOptions::new("spin.toml");
    o.manifest = match &app.manifest {
        Some(path) => ManifestSource::File(path.clone()),
        None if std::path::Path::new("spin.toml").exists() => o.manifest,
        None => ManifestSource::BuiltIn(PathBuf::from(".")),
    };
    o.config_dir = app.config.clone();
    o.components = match app.components.as_deref() {
        Some("manifest") => Components::Manifest,
        Some(dir) => Components::Dir(PathBuf::from(dir)),
        None => Components::BuiltIn,
    };
    o
}

/// [`options`] for a command that loads the components: with the compile cache.
fn loading(app: &AppArgs) -> HostOptions {
    let mut o = options(app);
    o.compile_cache = heartbeat_host::compile_cache::CompileCache::from_env();
    o
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init { dir } => {
            let report = init::init(&dir)?;
            for line in &report.files {
                println!("{line}");
            }
            // Run from elsewhere, the program is named by its full path.
            let program = match dir == std::path::Path::new(".") {
                true => std::env::args().next(),
                false => std::env::current_exe()
                    .ok()
                    .map(|p| p.display().to_string()),
            };
            let program = program.unwrap_or_else(|| "heartbeat-host".into());
            print!("{}", init::next_steps(&report, &dir, &program));
            Ok(())
        }
        Command::Check { app, cloudflare } => {
            let o = loading(&app);
            let prepared = prepare(&o)?;
            if cloudflare {
                heartbeat_host::check::cloudflare(&prepared.runtime.manifest, &o.variables)?;
            }
            for w in &prepared.warnings {
                eprintln!("warning: {w}");
            }
            println!("configuration is valid");
            Ok(())
        }
        Command::Key { app, service, push } => {
            println!(
                "{}",
                service_key::service_key(&options(&app), &service, push)?
            );
            Ok(())
        }
        Command::NotifyTest {
            app,
            channel,
            event,
        } => {
            let prepared = prepare(&loading(&app))?;
            let tokio = tokio::runtime::Runtime::new()?;
            let outcomes =
                tokio.block_on(test_notification::send(&prepared.runtime, &channel, &event))?;
            for o in &outcomes {
                println!("{o}");
            }
            if outcomes.iter().all(|o| o.ok) {
                Ok(())
            } else {
                anyhow::bail!("the test notification was not delivered")
            }
        }
        Command::Up {
            app,
            listen,
            data,
            memory,
            kv,
            runtime_config_file,
            sweep_every,
            max_in_flight,
            spin_like_store,
            spin_redis,
        } => {
            let mut o = loading(&app);
            o.listen = listen;
            let from_file = match &runtime_config_file {
                Some(file) => heartbeat_host::runtime_config::default_store(file)?,
                None => None,
            };
            o.store = match (memory, kv, from_file) {
                (true, _, _) => StoreChoice::Memory,
                (_, Some(url), _) => StoreChoice::Redis(url),
                (_, None, Some(store)) => store,
                (_, None, None) => StoreChoice::Sqlite(data.join("heartbeat.db")),
            };
            o.absent_cas = if spin_like_store {
                AbsentCas::Upsert
            } else {
                AbsentCas::Exact
            };
            o.spin_redis = spin_redis;
            o.sweep_every = (sweep_every > 0).then(|| Duration::from_secs(sweep_every));
            if let Some(n) = max_in_flight {
                o.max_in_flight = (n > 0).then_some(n);
            }
            let prepared = prepare(&o)?;
            for w in &prepared.warnings {
                tracing::warn!("{w}");
            }
            let tokio = tokio::runtime::Runtime::new()?;
            tokio.block_on(async move {
                let listener = tokio::net::TcpListener::bind(o.listen).await?;
                let store = o.store.describe();
                println!(
                    "heartbeat-monitor on http://{}  store: {store}  app: {}",
                    listener.local_addr()?,
                    o.manifest.describe()
                );
                if let Some(every) = o.sweep_every {
                    tokio::spawn(server::sweep_timer(prepared.runtime.clone(), every));
                }
                server::serve(prepared.runtime, listener, async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
            })
        }
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal, not in journald or CI logs.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
