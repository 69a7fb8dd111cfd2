//! The one path every accepted heartbeat takes into the state machine, whichever form it came
//! in (`POST /api/heartbeat`, a ping, a push): record it, then tell about the change it made.

use super::{storage_failure, Context, Response};
use crate::config::ServiceConfig;
use crate::layout::Rules;
use crate::model::LogEntry;
use crate::notify::channels_for;
use crate::state::Policy;
use crate::store::Store;

/// Record a validated heartbeat for `service` and tell people about the change it makes, if
/// any. `Err` is the answer to give instead (the store failed).
pub(super) async fn accept<S: Store>(
    ctx: &Context<'_, S>,
    service: &ServiceConfig,
    entry: LogEntry,
) -> Result<(), Response> {
    let quiet = quiet(ctx, service, entry.at)?;
    let wanted = |event| !channels_for(ctx.config, service, event).is_empty();
    let rules = Rules {
        schedule: &service.schedule,
        policy: Policy {
            quiet,
            ..ctx.policy()
        },
        wanted: &wanted,
    };
    let recorded = ctx
        .layout()
        .record_heartbeat(ctx.store, ctx.clock, &service.id, entry, &rules)
        .map_err(|_| storage_failure())?;
    if let Some(change) = recorded.change {
        crate::unsent::finish(ctx, service, &change).await;
    }
    Ok(())
}

/// Whether nobody is to be told about `service` at `now`: it is paused, in a maintenance
/// window, or a service it depends on is down. Transitions are still recorded.
pub(super) fn quiet<S: Store>(
    ctx: &Context<'_, S>,
    service: &ServiceConfig,
    now: i64,
) -> Result<bool, Response> {
    crate::sweep::quiet(ctx, service, now).map_err(|_| storage_failure())
}
