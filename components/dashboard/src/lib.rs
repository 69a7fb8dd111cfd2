//! The dashboard component: GET /api/status, /api/services, /api/logs and every other route. All logic is heartbeat-core's.

heartbeat_guest::http_component!(heartbeat_core::api::dashboard::handle);
