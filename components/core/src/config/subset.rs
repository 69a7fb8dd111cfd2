//! The part of services.json one service's requests read: the service, the services it depends
//! on (whether one is down holds its alerts) and the services that depend on it (named in its
//! `down`), with the global maintenance windows. A heartbeat parses this instead of the whole
//! file, so its cost does not grow with the fleet (see [`crate::config_cache`]).

use serde_json::{Map, Value};

/// One service's cut of services.json, as services.json text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subset {
    pub id: String,
    pub services_json: String,
}

fn id_of(service: &Value) -> Option<&str> {
    service.get("id").and_then(Value::as_str)
}

fn parents_of(service: &Value) -> Vec<&str> {
    service
        .get("dependsOn")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The subset for every service of `services_json`, from one parse; `None` if the text is not
/// a services.json at all (validation is [`super::Config::parse`]'s job).
pub fn all(services_json: &str) -> Option<Vec<Subset>> {
    use std::collections::HashMap;
    let root: Value = serde_json::from_str(services_json).ok()?;
    let services = root.get("services")?.as_array()?;
    let index: HashMap<&str, usize> = services
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((id_of(s)?, i)))
        .collect();
    let mut dependents: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in services.iter().enumerate() {
        for parent in parents_of(s) {
            dependents.entry(parent).or_default().push(i);
        }
    }
    Some(
        services
            .iter()
            .filter_map(|s| {
                let id = id_of(s)?;
                // In file order, as [`one`] keeps them.
                let mut near: Vec<usize> = parents_of(s)
                    .into_iter()
                    .filter_map(|p| index.get(p).copied())
                    .chain(dependents.get(id).into_iter().flatten().copied())
                    .collect();
                near.sort_unstable();
                near.dedup();
                Some(Subset {
                    id: id.to_string(),
                    services_json: cut(&root, s, near.into_iter().map(|i| &services[i]).collect()),
                })
            })
            .collect(),
    )
}

/// The subset for `id` alone, or `None` if services.json does not list it.
pub fn one(services_json: &str, id: &str) -> Option<Subset> {
    let root: Value = serde_json::from_str(services_json).ok()?;
    let services = root.get("services")?.as_array()?;
    let me = services.iter().find(|s| id_of(s) == Some(id))?;
    let parents = parents_of(me);
    let neighbours = services
        .iter()
        .filter(|s| {
            id_of(s).is_some_and(|sid| sid != id && parents.contains(&sid))
                || parents_of(s).contains(&id)
        })
        .collect();
    Some(Subset {
        id: id.to_string(),
        services_json: cut(&root, me, neighbours),
    })
}

/// services.json with `me` and its `neighbours` only. A neighbour keeps only the dependencies
/// that are in the cut, so the cut is a valid services.json of its own.
fn cut(root: &Value, me: &Value, neighbours: Vec<&Value>) -> String {
    let mut kept: Vec<Value> = Vec::with_capacity(neighbours.len() + 1);
    kept.push(me.clone());
    kept.extend(neighbours.into_iter().cloned());
    let ids: Vec<String> = kept
        .iter()
        .filter_map(|s| id_of(s).map(str::to_string))
        .collect();
    for neighbour in kept.iter_mut().skip(1) {
        if let Some(Value::Array(list)) = neighbour.get_mut("dependsOn") {
            list.retain(|p| p.as_str().is_some_and(|p| ids.iter().any(|i| i == p)));
        }
    }
    let mut out: Map<String, Value> = root
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| k.as_str() != "services")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    out.insert("services".into(), Value::Array(kept));
    Value::Object(out).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const SERVICES: &str = r#"{
        "maintenance": [{"expression": "0 3 * * 0", "duration": 600}],
        "services": [
            {"id": "db"},
            {"id": "cache"},
            {"id": "api", "dependsOn": ["db", "cache"]},
            {"id": "web", "dependsOn": ["api", "cache"]},
            {"id": "lonely"}
        ]
    }"#;
    const NOTIFICATIONS: &str = r#"{"channels": []}"#;

    fn ids(subset: &Subset) -> Vec<String> {
        let config = Config::parse(&subset.services_json, NOTIFICATIONS).expect("a valid cut");
        config.services.iter().map(|s| s.id.clone()).collect()
    }

    #[test]
    fn a_cut_holds_the_service_its_parents_and_its_dependents() {
        let api = one(SERVICES, "api").unwrap();
        assert_eq!(ids(&api), ["api", "db", "cache", "web"]);
        let config = Config::parse(&api.services_json, NOTIFICATIONS).unwrap();
        assert_eq!(config.service("api").unwrap().depends_on, ["db", "cache"]);
        assert_eq!(
            config.service("web").unwrap().depends_on,
            ["api", "cache"],
            "cache is in the cut, so web keeps it"
        );
        assert_eq!(config.enabled_dependents("api"), ["web"]);
        assert_eq!(config.maintenance.len(), 1, "global windows come along");

        let db = one(SERVICES, "db").unwrap();
        let config = Config::parse(&db.services_json, NOTIFICATIONS).unwrap();
        assert_eq!(ids(&db), ["db", "api"]);
        assert_eq!(
            config.service("api").unwrap().depends_on,
            ["db"],
            "cache is not in db's cut"
        );
        assert_eq!(ids(&one(SERVICES, "lonely").unwrap()), ["lonely"]);
        assert_eq!(one(SERVICES, "nobody"), None);
    }

    #[test]
    fn all_cuts_at_once_match_each_cut_alone() {
        let every = all(SERVICES).unwrap();
        assert_eq!(every.len(), 5);
        for subset in &every {
            let alone = one(SERVICES, &subset.id).unwrap();
            assert_eq!(ids(subset), ids(&alone), "{}", subset.id);
        }
    }
}
