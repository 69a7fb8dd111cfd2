//! Generated bindings of the `heartbeat:monitor/http-component` world (imports only; the HTTP
//! export comes from spin-sdk's `#[http_component]`).

wit_bindgen::generate!({
    path: "../../wit",
    world: "http-component",
    generate_all,
});
