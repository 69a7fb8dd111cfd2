//! The sweep: mark services that went silent as `down` and notify, once per transition.
//! Runs on `POST /api/sweep`, on a host timer, and — as a safety net where nothing schedules
//! it — from any request that finds it overdue.

use crate::api::Context;
use crate::layout::Rules;
use crate::model::{Event, Transition};
use crate::notify::{channels_for, Delivery, Notification};
use crate::store::{Store, StoreError};

/// What one sweep did.
#[derive(Debug, Default)]
pub struct Report {
    pub checked: usize,
    /// Each transition this sweep claimed, with the deliveries it caused.
    pub transitions: Vec<(String, Transition, Vec<Delivery>)>,
    /// Each reminder sent (service id, deliveries).
    pub reminders: Vec<(String, Vec<Delivery>)>,
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
    remind(ctx, now, &mut report)?;
    Ok(report)
}

/// Remind the channels with `remindEvery` about services that are still down.
fn remind<S: Store>(ctx: &Context<'_, S>, now: i64, report: &mut Report) -> Result<(), StoreError> {
    let layout = ctx.layout();
    let services: Vec<_> = ctx.config.services.iter().filter(|s| s.enabled).collect();
    let wanted: Vec<Vec<(String, i64)>> = services
        .iter()
        .map(|s| {
            channels_for(ctx.config, s, Event::Down)
                .into_iter()
                .filter_map(|c| {
                    c.remind_every_secs
                        .map(|e| (c.name.clone(), e as i64 * 1000))
                })
                .collect()
        })
        .collect();
    if wanted.iter().all(Vec::is_empty) {
        return Ok(());
    }
    for (service, channels) in services.into_iter().zip(wanted) {
        if channels.is_empty() || ctx.config.in_maintenance(service, now) {
            continue;
        }
        if layout.pauses(ctx.store, &[&service.id])?[0].is_some() {
            continue;
        }
        let Some((state, due)) =
            layout.claim_reminders(ctx.store, ctx.clock, &service.id, now, &channels)?
        else {
            continue;
        };
        let notification = Notification::for_reminder(service, &state, now);
        let mut deliveries = Vec::new();
        for channel in &due {
            deliveries.extend(ctx.notifier.deliver_to(channel, &notification));
        }
        let records: Vec<_> = deliveries
            .iter()
            .map(|d| crate::notify::record_of(d, &notification, ctx.clock.now_ms()))
            .collect();
        layout.record_deliveries(ctx.store, ctx.clock, &service.id, &records)?;
        report.reminders.push((service.id.clone(), deliveries));
    }
    Ok(())
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
