//! Finishing a claimed change. The claim writes the new state and, in the same write, records
//! the change as unsent; then its transitions go into the history, its event (if any) to the
//! notifier, and [`finish`] settles it. A host that dies anywhere in between loses nothing: the
//! sweep takes the change over once its claimer has had time enough ([`lease_ms`]) and finishes
//! it ([`recover`]).
//!
//! Delivery is therefore at least once. The one way to be told twice is a crash after a vendor
//! accepted a message and before the settle landed; the repeat carries the same transition
//! (event, service, `at`), so a receiver can drop it.

use crate::config::ServiceConfig;
use crate::context::Context;
use crate::delivery::BUDGET_TIMEOUTS;
use crate::model::{Event, ServiceState, Transition};
use crate::notify::{channels_for, Delivery, Notification};
use crate::state::Change;
use crate::store::{Store, StoreError};

/// Tell about `change` (if it decided to tell) and settle it. Its transitions are already in
/// the history.
pub async fn finish<S: Store>(
    ctx: &Context<'_, S>,
    service: &ServiceConfig,
    change: &Change,
) -> Vec<Delivery> {
    let Some(last) = change.transitions.last() else {
        return Vec::new();
    };
    let notification = change.notify.map(|event| {
        let dependents = ctx.config.enabled_dependents(&service.id);
        Notification::for_change(service, change, event, dependents)
    });
    let deliveries = match &notification {
        Some(n) => ctx.notifier.deliver(n).await,
        None => Vec::new(),
    };
    // Settle first, the delivery log after: the window in which a crash makes the sweep tell
    // again is this one write. Should it fail, the sweep tells again: twice, never lost.
    let _ = ctx
        .layout()
        .settle(ctx.store, ctx.clock, &service.id, last, change.notify);
    if let Some(n) = &notification {
        crate::notify::record(ctx, n, &deliveries);
    }
    deliveries
}

/// How long a change's claimer may take to finish it before the sweep takes over: every
/// delivery's whole budget one after another (the slowest host sends them in turn; a channel
/// with several destinations makes one delivery each), plus one timeout for the store.
pub fn lease_ms<S: Store>(ctx: &Context<'_, S>, service: &ServiceConfig) -> i64 {
    let channels = [Event::Down, Event::Up, Event::Degraded]
        .into_iter()
        .map(|e| {
            channels_for(ctx.config, service, e)
                .iter()
                .map(|c| c.kind.destinations(&c.options).len())
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
        .max(1) as i64;
    let timeout = ctx.settings.request_timeout_ms as i64;
    timeout * (BUDGET_TIMEOUTS as i64 * channels + 1)
}

/// Finish, at `now`, the changes whose claimers did not: restore their history, tell, settle.
/// `states` are the services' states as the sweep read them (without their metadata); a
/// service with changes to tell is read again whole, for the notification. Returns each
/// transition told, with its deliveries.
pub async fn recover<S: Store>(
    ctx: &Context<'_, S>,
    now: i64,
    services: &[&ServiceConfig],
    states: &[Option<ServiceState>],
) -> Result<Vec<(String, Transition, Vec<Delivery>)>, StoreError> {
    let layout = ctx.layout();
    let mut told = Vec::new();
    for (service, state) in services.iter().copied().zip(states) {
        let Some(state) = state.as_ref().filter(|s| !s.notified.unsent.is_empty()) else {
            continue;
        };
        let lease = lease_ms(ctx, service);
        let mut whole = None;
        while let Some(unsent) =
            layout.claim_unsent(ctx.store, ctx.clock, &service.id, now, lease)?
        {
            let Some(last) = unsent.last().cloned() else {
                continue;
            };
            layout.restore_transitions(
                ctx.store,
                ctx.clock,
                &service.id,
                now,
                &unsent.transitions,
            )?;
            if whole.is_none() {
                whole = layout.states(ctx.store, &[&service.id])?.pop().flatten();
            }
            let change = Change {
                state: whole.clone().unwrap_or_else(|| state.clone()),
                transitions: unsent.transitions,
                notify: unsent.event,
                previous_since: unsent.previous_since,
            };
            let deliveries = finish(ctx, service, &change).await;
            told.push((service.id.clone(), last, deliveries));
        }
    }
    Ok(told)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::config::{Config, Settings};
    use crate::layout::{state_key, transitions_key, Rules};
    use crate::model::{LogEntry, Status};
    use crate::notify::{Deliveries, Notifier};
    use crate::ready::resolve;
    use crate::store::MemoryStore;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    /// Keeps every notification handed to it.
    #[derive(Default)]
    struct Recorder(RefCell<Vec<Notification>>);

    impl Notifier for Recorder {
        fn deliver<'a>(&'a self, n: &'a Notification) -> Deliveries<'a> {
            self.0.borrow_mut().push(n.clone());
            Box::pin(std::future::ready(Vec::new()))
        }
        fn deliver_to<'a>(&'a self, _: &'a str, n: &'a Notification) -> Deliveries<'a> {
            self.deliver(n)
        }
    }

    const T0: i64 = 1_700_000_000_000;

    struct World {
        store: MemoryStore,
        config: Config,
        settings: Settings,
        secrets: BTreeMap<String, String>,
        told: Recorder,
    }

    fn world() -> World {
        let config = Config::parse(
            r#"{"services": [{"id": "db", "stalenessThreshold": 300}]}"#,
            r#"{"enabled": true, "settings": {"cooldownMinutes": 0},
                "channels": [{"type": "webhook", "name": "ops", "config": {}}]}"#,
        )
        .unwrap();
        let secrets = BTreeMap::from([("REQUEST_TIMEOUT".to_string(), "1000".to_string())]);
        World {
            store: MemoryStore::default(),
            settings: Settings::from_secrets(&secrets).unwrap(),
            config,
            secrets,
            told: Recorder::default(),
        }
    }

    impl World {
        fn at<'a>(&'a self, clock: &'a ManualClock) -> Context<'a, MemoryStore> {
            Context {
                store: &self.store,
                clock,
                notifier: &self.told,
                config: &self.config,
                settings: &self.settings,
                secrets: &self.secrets,
            }
        }

        /// A heartbeat whose host dies right after its claim: nothing after the state write.
        fn claim_and_die(&self, at: i64, status: Status) {
            self.claim_and_die_as(at, status, false);
        }

        /// The same, with notifications held (`quiet`: paused, maintenance, a parent down).
        fn claim_and_die_as(&self, at: i64, status: Status, quiet: bool) {
            self.claim_and_die_with(at, status, quiet, None);
        }

        /// The same, for a heartbeat that carries `metadata`.
        fn claim_and_die_with(
            &self,
            at: i64,
            status: Status,
            quiet: bool,
            metadata: Option<serde_json::Map<String, serde_json::Value>>,
        ) {
            let clock = ManualClock::at(at);
            let ctx = self.at(&clock);
            let rules = Rules {
                schedule: &self.config.services[0].schedule,
                policy: crate::state::Policy {
                    quiet,
                    ..ctx.policy()
                },
                wanted: &|_| true,
            };
            let entry = LogEntry::new(at, status, None, metadata);
            ctx.layout()
                .record_heartbeat(&self.store, &clock, "db", entry, &rules)
                .unwrap();
        }

        fn sweep(&self, at: i64) -> usize {
            let clock = ManualClock::at(at);
            let report = resolve(crate::sweep::run(&self.at(&clock), at)).unwrap();
            report.transitions.len()
        }

        fn state(&self) -> ServiceState {
            serde_json::from_slice(&self.store.get(&state_key("db")).unwrap().unwrap()).unwrap()
        }

        /// The transitions of the state's unsent changes, oldest first.
        fn transitions_or_claimed(&self) -> Vec<crate::model::Transition> {
            self.state()
                .notified
                .unsent
                .iter()
                .flat_map(|u| u.transitions.clone())
                .collect()
        }

        fn transitions(&self) -> Vec<crate::model::Transition> {
            use crate::layout::{Stored, TransitionLog};
            let bytes = self.store.get(&transitions_key("db")).unwrap().unwrap();
            TransitionLog::from_bytes(&bytes).unwrap().transitions
        }
    }

    #[test]
    fn a_recovered_change_is_told_under_the_event_id_its_claimer_used() {
        // The claimer tells the change itself.
        let lived = world();
        let clock = ManualClock::at(T0);
        let ctx = lived.at(&clock);
        let service = &lived.config.services[0];
        let rules = Rules {
            schedule: &service.schedule,
            policy: ctx.policy(),
            wanted: &|_| true,
        };
        let entry = LogEntry::new(T0, Status::Down, None, None);
        let change = ctx
            .layout()
            .record_heartbeat(&lived.store, &clock, "db", entry, &rules)
            .unwrap()
            .change
            .expect("a transition");
        resolve(finish(&ctx, service, &change));
        // Another dies after the same claim; a sweep tells it once the lease is over.
        let died = world();
        died.claim_and_die(T0, Status::Down);
        died.sweep(T0 + 60_000);
        let ids = |w: &World| -> Vec<String> {
            w.told
                .0
                .borrow()
                .iter()
                .map(|n| n.event_id.clone())
                .collect()
        };
        assert_eq!(ids(&lived).len(), 1);
        assert_eq!(ids(&died), ids(&lived), "a redelivery keeps the event's id");
    }

    #[test]
    fn a_change_whose_claimer_died_is_finished_by_the_sweep_once_the_lease_is_over() {
        let w = world();
        w.claim_and_die(T0, Status::Down);
        // Died before the history was written too.
        w.store.delete(&transitions_key("db")).unwrap();
        let lease = lease_ms(&w.at(&ManualClock::at(T0)), &w.config.services[0]);
        assert_eq!(
            lease, 3000,
            "one channel: two timeouts of delivery and one for the store"
        );

        assert_eq!(
            w.sweep(T0 + lease - 1),
            0,
            "the claimer may still be at work"
        );
        assert!(w.told.0.borrow().is_empty());
        assert_eq!(w.state().notified.unsent.len(), 1);

        assert_eq!(w.sweep(T0 + lease), 1);
        let told = w.told.0.borrow().clone();
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].event, Event::Down);
        assert_eq!(told[0].transition.at, T0);
        assert_eq!(w.transitions().len(), 1, "the history is restored");
        assert!(
            w.state().notified.unsent.is_empty(),
            "and the change settled"
        );

        assert_eq!(
            w.sweep(T0 + 10 * lease),
            0,
            "finished changes stay finished"
        );
        assert_eq!(w.told.0.borrow().len(), 1);
    }

    /// The sweep reads the fleet's states without their metadata; what it tells still carries
    /// the newest heartbeat's, for the templates: a change whose claimer died, and a silence.
    #[test]
    fn what_the_sweep_tells_carries_the_heartbeats_metadata() {
        let metadata = serde_json::json!({ "host": "db-3" }).as_object().cloned();
        let told = |w: &World| -> Vec<_> {
            w.told
                .0
                .borrow()
                .iter()
                .map(|n| (n.event, n.metadata.clone()))
                .collect()
        };
        let died = world();
        died.claim_and_die_with(T0, Status::Down, false, metadata.clone());
        assert_eq!(
            died.sweep(T0 + 60_000),
            1,
            "the claimer's change, recovered"
        );
        assert_eq!(told(&died), [(Event::Down, metadata.clone())]);

        let silent = world();
        silent.claim_and_die_with(T0, Status::Up, false, metadata.clone());
        silent.sweep(T0 + 60_000);
        assert_eq!(silent.sweep(T0 + 400_000), 1, "silent past its 300 s");
        assert_eq!(told(&silent), [(Event::Down, metadata)]);
    }

    #[test]
    fn a_history_written_before_the_crash_is_not_written_twice() {
        let w = world();
        w.claim_and_die(T0, Status::Down);
        w.claim_and_die(T0 + 1000, Status::Up);
        assert_eq!(w.state().notified.unsent.len(), 2);
        w.sweep(T0 + 60_000);
        let told: Vec<_> = w.told.0.borrow().iter().map(|n| n.event).collect();
        assert_eq!(told, [Event::Down, Event::Up], "oldest first");
        assert_eq!(w.transitions().len(), 2);
        assert!(w.state().notified.unsent.is_empty());
    }

    #[test]
    fn a_held_down_whose_release_was_claimed_by_a_sweep_that_died_is_told_by_a_later_one() {
        let w = world();
        w.claim_and_die_as(T0, Status::Down, true);
        assert!(w.state().notified.held);
        let down = w.transitions_or_claimed()[0].clone();
        let released = w
            .at(&ManualClock::at(T0 + 1000))
            .layout()
            .claim_release(
                &w.store,
                &ManualClock::at(T0 + 1000),
                "db",
                T0 + 1000,
                &down,
            )
            .unwrap();
        assert!(
            released.is_some(),
            "the release is claimed, then its sweep dies"
        );
        assert!(w.told.0.borrow().is_empty());

        w.sweep(T0 + 1000 + 3000);
        let told = w.told.0.borrow().clone();
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!((told[0].event, told[0].transition.at), (Event::Down, T0));
        assert!(w.state().notified.unsent.is_empty());
        w.sweep(T0 + 60_000);
        assert_eq!(w.told.0.borrow().len(), 1);
    }

    #[test]
    fn a_change_finished_by_its_claimer_is_settled_and_not_told_again() {
        let w = world();
        let clock = ManualClock::at(T0);
        let ctx = w.at(&clock);
        let beat = crate::api::Request {
            method: "POST".into(),
            path: "/api/heartbeat".into(),
            headers: vec![("authorization".into(), "Bearer k".into())],
            body: br#"{"serviceId": "db", "status": "down"}"#.to_vec(),
            ..Default::default()
        };
        let secrets = BTreeMap::from([("API_KEYS".to_string(), r#"{"db": "k"}"#.to_string())]);
        let ctx = Context {
            secrets: &secrets,
            ..ctx
        };
        assert_eq!(resolve(crate::api::ingest::handle(&ctx, &beat)).status, 200);
        assert_eq!(w.told.0.borrow().len(), 1);
        assert!(w.state().notified.unsent.is_empty());
        assert_eq!(w.sweep(T0 + 60_000), 0);
        assert_eq!(w.told.0.borrow().len(), 1);
    }
}
