//! heartbeat-core's `Notifier` over the `heartbeat:monitor/notifier` import.

use crate::bindings::heartbeat::monitor::{notifier as wit_notifier, types as wit_types};
use heartbeat_core::notify::{Deliveries, Notification, Notifier};

crate::notifier_caller_conversions!();

/// Calls the notifiers component (linked by the host, or composed by Spin).
#[derive(Debug, Clone, Copy)]
pub struct NotifierImport;

/// The import blocks until the notifiers component is done, so each answer is a finished future.
impl Notifier for NotifierImport {
    fn deliver<'a>(&'a self, n: &'a Notification) -> Deliveries<'a> {
        let answer = deliveries_from_wit(wit_notifier::deliver(&notification_to_wit(n)));
        Box::pin(std::future::ready(answer))
    }

    fn deliver_to<'a>(&'a self, channel: &'a str, n: &'a Notification) -> Deliveries<'a> {
        let answer =
            deliveries_from_wit(wit_notifier::deliver_to(channel, &notification_to_wit(n)));
        Box::pin(std::future::ready(answer))
    }
}
