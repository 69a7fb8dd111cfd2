//! The ingest component: POST /api/heartbeat. All logic is heartbeat-core's.

heartbeat_guest::http_component!(heartbeat_core::api::ingest::handle);
