//! Generated host bindings for the project's worlds (`wit/monitor.wit`).

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "http-component",
    imports: {
        "heartbeat:monitor/notifier.deliver": async,
        "heartbeat:monitor/notifier.deliver-to": async,
        "heartbeat:monitor/extra-notifier.deliver": async,
        "heartbeat:monitor/extra-notifier.deliver-to": async,
        // Async so every store operation is a point where other requests run, as with a
        // networked store; without it requests barely interleave and races stay hidden.
        "wasi:keyvalue": async | trappable,
        default: trappable,
    },
    with: {
        "wasi:keyvalue/store.bucket": crate::state::Bucket,
        "wasi:keyvalue/atomics.cas": crate::state::Cas,
    },
});

/// A world that exports notifier interfaces, over the types and `wasi:config` above.
macro_rules! notifier_world {
    ($(#[$doc:meta])* $module:ident, $world:literal) => {
        $(#[$doc])*
        pub mod $module {
            wasmtime::component::bindgen!({
                path: "../../wit",
                world: $world,
                exports: { default: async },
                with: {
                    "wasi:config": super::wasi::config,
                    "heartbeat:monitor/types": super::heartbeat::monitor::types,
                },
            });
        }
    };
}

notifier_world!(
    /// The notifiers component's world: it exports `notifier` and `extra-notifier`.
    notifiers,
    "notifiers"
);
notifier_world!(
    /// A notifier of the user's own: it exports `heartbeat:monitor/notifier` only.
    custom_notifier,
    "custom-notifier"
);
