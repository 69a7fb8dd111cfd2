//! The components' linear memory starts with room for a request's heap
//! (components/guest/initial_memory.rs): with the linker's default, data and stack only, every
//! request grew memory, and the host's pooling allocator changed page protections twice per
//! request, flushing the TLB on every core.

use std::path::{Path, PathBuf};

/// The largest initial size, in bytes, of the memories the component's core modules define.
fn initial_memory(component: &Path) -> u64 {
    let bytes = std::fs::read(component)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", component.display()));
    let mut largest = 0;
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let wasmparser::Payload::MemorySection(memories) = payload.expect("a valid component") {
            for memory in memories {
                let memory = memory.expect("a valid memory type");
                largest = largest.max(memory.initial << memory.page_size_log2.unwrap_or(16));
            }
        }
    }
    largest
}

#[test]
fn the_components_start_with_four_mib_of_memory_and_the_linkers_default_is_less() {
    let dir = PathBuf::from(heartbeat_host::COMPONENTS_DIR);
    for name in ["ingest", "sweep", "dashboard", "notifiers"] {
        assert_eq!(
            initial_memory(&dir.join(format!("{name}.wasm"))),
            4 << 20,
            "{name}.wasm"
        );
    }
    // The benchmarks' empty component keeps the default: what the others would have.
    let ceiling = initial_memory(&dir.join("ceiling.wasm"));
    assert!(ceiling > 0 && ceiling < 4 << 20, "ceiling.wasm: {ceiling}");
}
