//! The sweep component: POST /api/sweep. All logic is heartbeat-core's.

heartbeat_guest::http_component!(heartbeat_core::api::sweep::handle);
