//! The sweep: mark services that went silent as `down` and notify, once per transition.
//! Runs on `POST /api/sweep`, on a host timer, and — as a safety net where nothing schedules
//! it — from any request that finds it overdue.

use crate::api::Context;
use crate::layout::Rules;
use crate::model::Transition;
use crate::notify::{channels_for, Delivery, Notification};
use crate::store::{Store, StoreError};

/// What one sweep did.
#[derive(Debug, Default)]
pub struct Report {
    pub checked: usize,
    /// Each transition this sweep claimed, with the deliveries it caused.
    pub transitions: Vec<(String, Transition, Vec<Delivery>)>,
}

/// Check every enabled service at `now`. Only services that changed are written.
pub fn run<S: Store>(ctx: &Context<'_, S>, now: i64) -> Result<Report, StoreError> {
    let layout = ctx.layout();
    let services: Vec<_> = ctx.config.services.iter().filter(|s| s.enabled).collect();
    let ids: Vec<&str> = services.iter().map(|s| s.id.as_str()).collect();
    let states = layout.states(ctx.store, &ids)?;
    let mut report = Report {
        checked: services.len(),
        ..Default::default()
    };
    for (service, state) in services.into_iter().zip(states) {
        let Some(state) = state else { continue };
        if !crate::state::is_silent(&state, &service.schedule, now)
            || state.status == crate::model::Status::Down
        {
            continue;
        }
        let quiet = ctx.config.in_maintenance(service, now)
            || layout.pauses(ctx.store, &[&service.id])?[0].is_some();
        let wanted = |event| !channels_for(ctx.config, service, event).is_empty();
        let rules = Rules {
            schedule: &service.schedule,
            policy: crate::state::Policy {
                quiet,
                ..ctx.policy()
            },
            wanted: &wanted,
        };
        let change = layout.record_silence(ctx.store, ctx.clock, &service.id, now, &rules)?;
        let Some(change) = change else { continue };
        let transition = change.transitions[0].clone();
        let deliveries = match change.notify {
            Some(event) => crate::notify::notify_and_record(
                ctx,
                &Notification::for_change(service, &change, event),
            ),
            None => Vec::new(),
        };
        report
            .transitions
            .push((service.id.clone(), transition, deliveries));
    }
    Ok(report)
}

/// Run a sweep if the last one is older than `SWEEP_OVERDUE_SECONDS`, claimed so concurrent
/// requests do not all run it. Failures are left for the next request: this is a safety net.
pub fn run_if_overdue<S: Store>(ctx: &Context<'_, S>) {
    let overdue_ms = ctx.settings.sweep_overdue_secs as i64 * 1000;
    if overdue_ms == 0 {
        return;
    }
    let now = ctx.clock.now_ms();
    if let Ok(true) = ctx.layout().claim_sweep(ctx.store, now, overdue_ms) {
        let _ = run(ctx, now);
    }
}
