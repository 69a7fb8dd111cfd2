//! What every channel module uses, imported as `use super::prelude::*`.

pub use super::{
    check_priorities, classify_http, for_event, per_event_option, priority_for, string_option,
    BuildError, BuildInput, Channel, OptionError, OutboundRequest, OutboundResponse, SecretKey,
    Verdict,
};
pub use crate::model::Event;
pub use crate::text::shorten;
pub use crate::time::iso;
pub use serde_json::{json, Map, Value};
