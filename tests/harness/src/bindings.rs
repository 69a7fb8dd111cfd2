//! Generated host bindings for the project's worlds (`wit/monitor.wit`).

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "heartbeat:monitor/http-component",
    imports: {
        "heartbeat:monitor/notifier.deliver": async,
        "heartbeat:monitor/notifier.deliver-to": async,
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

/// The notifiers component's world: it exports `heartbeat:monitor/notifier`.
pub mod notifiers {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "heartbeat:monitor/notifiers",
        exports: { default: async },
        with: {
            "wasi:config": super::wasi::config,
            "heartbeat:monitor/types": super::heartbeat::monitor::types,
        },
    });
}
