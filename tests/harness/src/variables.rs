//! Spin's variables, resolved the way Spin resolves them: `SPIN_VARIABLE_<NAME>` from the
//! environment, then from a `.env` file beside the manifest, then the manifest default. Each
//! component sees only the keys its `[component.<name>.variables]` table declares.

use crate::manifest::Manifest;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;

/// Resolved application variables by name, plus per-component views.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    pub app: BTreeMap<String, String>,
}

fn env_name(name: &str) -> String {
    format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase())
}

/// Parse a `.env` file: `NAME=value` lines, `#` comments, optional surrounding quotes.
pub fn parse_dotenv(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_string(), v.to_string()))
        })
        .collect()
}

impl Variables {
    /// Resolve every `[variables]` entry. `overrides` (by variable name) win over everything;
    /// tests use them in place of the process environment.
    pub fn resolve(manifest: &Manifest, overrides: &BTreeMap<String, String>) -> Result<Variables> {
        let dotenv = std::fs::read_to_string(manifest.dir.join(".env"))
            .map(|t| parse_dotenv(&t))
            .unwrap_or_default();
        let mut app = BTreeMap::new();
        let mut missing = Vec::new();
        for (name, var) in &manifest.variables {
            let value = overrides
                .get(name)
                .cloned()
                .or_else(|| std::env::var(env_name(name)).ok())
                .or_else(|| dotenv.get(&env_name(name)).cloned())
                .or_else(|| var.default.clone());
            match value {
                Some(v) => {
                    app.insert(name.clone(), v);
                }
                None if var.required => missing.push(env_name(name)),
                None => {}
            }
        }
        if !missing.is_empty() {
            bail!(
                "required variables are not set: {} (set them in the environment or in .env)",
                missing.join(", ")
            );
        }
        Ok(Variables { app })
    }

    /// A component's view: its declared keys with `{{ name }}` templates expanded.
    pub fn for_component(
        &self,
        manifest: &Manifest,
        component: &str,
    ) -> Result<BTreeMap<String, String>> {
        let Some(c) = manifest.component.get(component) else {
            return Ok(BTreeMap::new());
        };
        c.variables
            .iter()
            .map(|(key, template)| Ok((key.clone(), self.expand(template, component, key)?)))
            .collect()
    }

    /// A component's `allowed_outbound_hosts`, templates expanded from the application's
    /// variables as Spin does, parsed with Spin's rules.
    pub fn allowed_hosts(
        &self,
        manifest: &Manifest,
        component: &str,
    ) -> Result<crate::allowed_hosts::AllowedHosts> {
        let Some(c) = manifest.component.get(component) else {
            return Ok(Default::default());
        };
        let entries = c
            .allowed_outbound_hosts
            .iter()
            .map(|e| self.expand(e, component, "allowed_outbound_hosts"))
            .collect::<Result<Vec<_>>>()?;
        crate::allowed_hosts::AllowedHosts::parse(&entries)
            .with_context(|| format!("component {component}: allowed_outbound_hosts"))
    }

    fn expand(&self, template: &str, component: &str, key: &str) -> Result<String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find("}}") else {
                bail!("component {component}: variable {key}: unclosed {{{{");
            };
            let name = rest[start + 2..start + end].trim();
            match self.app.get(name) {
                Some(v) => out.push_str(v),
                None => bail!("component {component}: variable {key} uses undeclared or unset variable {name}"),
            }
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_lines_strip_quotes_and_comments() {
        let vars =
            parse_dotenv("# c\nSPIN_VARIABLE_A=1\nexport SPIN_VARIABLE_B=\"two words\"\n\nC='x'\n");
        assert_eq!(vars["SPIN_VARIABLE_A"], "1");
        assert_eq!(vars["SPIN_VARIABLE_B"], "two words");
        assert_eq!(vars["C"], "x");
    }
}
