//! heartbeat-core's `Notifier` over the `heartbeat:monitor/notifier` import (our channels) and
//! the `extra-notifier` import (a notifier component of the user's own, docs/EXTENDING.md).

use crate::bindings::heartbeat::monitor::{
    extra_notifier as wit_extra, notifier as wit_notifier, types as wit_types,
};
use heartbeat_core::notification::bounded_foreign;
use heartbeat_core::notify::{Deliveries, Notification, Notifier};

crate::notifier_caller_conversions!();

/// Calls the notifiers component, then the extra notifier, with the same event (both linked by
/// the host, or composed by Spin). Ours go first: their vendors do not wait on the user's code.
#[derive(Debug, Clone, Copy)]
pub struct NotifierImport;

/// The imports block until the notifiers are done, so each answer is a finished future.
impl Notifier for NotifierImport {
    fn deliver<'a>(&'a self, n: &'a Notification) -> Deliveries<'a> {
        let n = notification_to_wit(n);
        let mut answer = deliveries_from_wit(wit_notifier::deliver(&n));
        answer.extend(bounded_foreign(deliveries_from_wit(wit_extra::deliver(&n))));
        Box::pin(std::future::ready(answer))
    }

    fn deliver_to<'a>(&'a self, channel: &'a str, n: &'a Notification) -> Deliveries<'a> {
        let n = notification_to_wit(n);
        let mut answer = deliveries_from_wit(wit_notifier::deliver_to(channel, &n));
        answer.extend(bounded_foreign(deliveries_from_wit(wit_extra::deliver_to(
            channel, &n,
        ))));
        Box::pin(std::future::ready(answer))
    }
}
