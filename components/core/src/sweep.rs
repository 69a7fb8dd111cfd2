//! The sweep: mark services that went silent as `down` and notify, once per transition.
//! Runs on `POST /api/sweep`, on a host timer, and — as a safety net where nothing schedules
//! it — from any request that finds it overdue.

use crate::config::ServiceConfig;
use crate::context::Context;
use crate::layout::Rules;
use crate::model::{Event, Status, Transition};
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
pub async fn run<S: Store>(ctx: &Context<'_, S>, now: i64) -> Result<Report, StoreError> {
    let layout = ctx.layout();
    let services: Vec<_> = ctx.config.services.iter().filter(|s| s.enabled).collect();
    let ids: Vec<&str> = services.iter().map(|s| s.id.as_str()).collect();
    // Without the heartbeats' metadata (up to 4 KiB a service): a notification takes its state,
    // metadata and all, from the claim that decides it (or, for a change whose claimer died,
    // reads it afresh).
    let states = layout.shown_states(ctx.store, &ids)?;
    let mut report = Report {
        checked: services.len(),
        ..Default::default()
    };
    for (service, state) in services.iter().zip(&states) {
        let Some(state) = state else { continue };
        if !crate::state::is_silent(state, &service.schedule, now)
            || state.status == crate::model::Status::Down
        {
            continue;
        }
        let quiet = quiet(ctx, service, now)?;
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
        let deliveries = crate::unsent::finish(ctx, service, &change).await;
        report
            .transitions
            .push((service.id.clone(), transition, deliveries));
    }
    // Changes whose claimer died are finished before anything new is told about them.
    let recovered = crate::unsent::recover(ctx, now, &services, &states).await?;
    report.transitions.extend(recovered);
    // The states read above serve the release pass too: a down held back during this sweep is
    // still held (its hold has not ended), and each release is re-checked by its claim.
    release(ctx, now, &services, &states, &mut report).await?;
    remind(ctx, now, &mut report).await?;
    Ok(report)
}

/// Whether nobody is to be told about `service` at `now`: it is paused, in a maintenance
/// window, or a service it depends on is down (the parent's notification counts it).
pub fn quiet<S: Store>(
    ctx: &Context<'_, S>,
    service: &ServiceConfig,
    now: i64,
) -> Result<bool, StoreError> {
    if ctx.config.in_maintenance(service, now) {
        return Ok(true);
    }
    let layout = ctx.layout();
    if layout.pauses(ctx.store, &[&service.id])?[0].is_some() {
        return Ok(true);
    }
    parent_down(ctx, service, now)
}

/// Whether a service `service` depends on is down at `now`.
fn parent_down<S: Store>(
    ctx: &Context<'_, S>,
    service: &ServiceConfig,
    now: i64,
) -> Result<bool, StoreError> {
    if service.depends_on.is_empty() {
        return Ok(false);
    }
    let ids: Vec<&str> = service.depends_on.iter().map(String::as_str).collect();
    let states = ctx.layout().states(ctx.store, &ids)?;
    Ok(ids.iter().zip(&states).any(|(id, state)| {
        ctx.config.service(id).is_some_and(|p| {
            crate::state::effective_status(state.as_ref(), &p.schedule, now) == Status::Down
        })
    }))
}

/// Tell, at last, about services whose `down` was held back (a parent was down, or they were
/// paused or in maintenance) and that are still down now that nothing holds it: they are down
/// on their own.
async fn release<S: Store>(
    ctx: &Context<'_, S>,
    now: i64,
    services: &[&ServiceConfig],
    states: &[Option<crate::model::ServiceState>],
    report: &mut Report,
) -> Result<(), StoreError> {
    let layout = ctx.layout();
    for (service, state) in services.iter().copied().zip(states) {
        let Some(state) = state else { continue };
        if !state.notified.held || state.status != Status::Down || quiet(ctx, service, now)? {
            continue;
        }
        if channels_for(ctx.config, service, Event::Down).is_empty() {
            continue;
        }
        let transitions = layout.histories(ctx.store, &[&service.id])?;
        let transition = transitions[0].last().cloned().unwrap_or(Transition {
            at: state.since,
            from: Status::Unknown,
            to: Status::Down,
            reason: crate::model::Reason::Silence,
            seq: state.seq,
        });
        let claimed = layout.claim_release(ctx.store, ctx.clock, &service.id, now, &transition)?;
        let Some(state) = claimed else {
            continue;
        };
        let change = crate::state::Change {
            previous_since: Some(state.since),
            state,
            transitions: vec![transition.clone()],
            notify: Some(Event::Down),
        };
        let deliveries = crate::unsent::finish(ctx, service, &change).await;
        report
            .transitions
            .push((service.id.clone(), transition, deliveries));
    }
    Ok(())
}

/// Remind the channels with `remindEvery` about services that are still down.
async fn remind<S: Store>(
    ctx: &Context<'_, S>,
    now: i64,
    report: &mut Report,
) -> Result<(), StoreError> {
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
            deliveries.extend(ctx.notifier.deliver_to(channel, &notification).await);
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
pub async fn run_if_overdue<S: Store>(ctx: &Context<'_, S>) {
    if let Some(now) = claim_if_overdue(ctx) {
        let _ = run(ctx, now).await;
    }
}

/// Claim the overdue sweep: `Some(now)` if the last sweep is older than
/// `SWEEP_OVERDUE_SECONDS` and this request won the claim, and is to [`run`] it.
pub fn claim_if_overdue<S: Store>(ctx: &Context<'_, S>) -> Option<i64> {
    let overdue_ms = ctx.settings.sweep_overdue_secs as i64 * 1000;
    let now = ctx.clock.now_ms();
    (overdue_ms > 0 && ctx.layout().claim_sweep(ctx.store, now, overdue_ms) == Ok(true))
        .then_some(now)
}
