//! `heartbeat-conformance <base-url>`: run the suite against a host started with the fixture
//! configuration and `API_KEYS` from `heartbeat_conformance::fixture_api_keys()`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(base) = std::env::args().nth(1) else {
        eprintln!("usage: heartbeat-conformance <base-url>");
        return ExitCode::from(2);
    };
    let results = heartbeat_conformance::run_all(&base);
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    for (name, result) in &results {
        match result {
            Ok(()) => println!("ok     {name}"),
            Err(e) => println!("FAILED {name}: {e:#}"),
        }
    }
    println!("{} passed, {failed} failed", results.len() - failed);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
