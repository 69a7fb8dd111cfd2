//! The app built into the binary: the four components build.rs made and the repository's
//! `spin.toml`. A copied `heartbeat-host` therefore runs with nothing beside it but its
//! `config/` (which `heartbeat-host init` writes); `--manifest` and `--components` still
//! override both.

/// The repository's `spin.toml`, used where no manifest is named and none is in the directory.
pub const MANIFEST: &str = include_str!("../../../spin.toml");

macro_rules! built {
    ($file:literal) => {
        (
            $file,
            include_bytes!(concat!(env!("HEARTBEAT_COMPONENTS_DIR"), "/", $file)) as &[u8],
        )
    };
}

/// (file name of the manifest's `source`, the component).
const COMPONENTS: [(&str, &[u8]); 4] = [
    built!("ingest.wasm"),
    built!("sweep.wasm"),
    built!("dashboard.wasm"),
    built!("notifiers.wasm"),
];

/// The built-in component whose `source` has this file name.
pub fn component(file_name: &str) -> Option<&'static [u8]> {
    COMPONENTS
        .iter()
        .find(|(name, _)| *name == file_name)
        .map(|(_, bytes)| *bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_component_of_the_built_in_manifest_is_built_in() {
        let manifest: toml::Table = MANIFEST.parse().unwrap();
        let components = manifest["component"].as_table().unwrap();
        assert_eq!(components.len(), COMPONENTS.len());
        for (name, c) in components {
            let source = c["source"].as_str().unwrap();
            let file = source.rsplit('/').next().unwrap();
            let bytes = component(file).unwrap_or_else(|| panic!("{name}: {file} not built in"));
            // A component (layer 1), not a core module.
            assert_eq!(&bytes[..8], b"\0asm\x0d\0\x01\0", "{file}");
        }
    }
}
