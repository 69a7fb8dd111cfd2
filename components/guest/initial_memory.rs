//! The build script of the four components (each Cargo.toml names this file): their linear
//! memory starts at 4 MiB instead of the linker's default, the data plus the 1 MiB stack, which
//! leaves no room for a heap. With the default every request grew memory at its first
//! allocations, and the host's pooling allocator then changed the page protections twice per
//! request — on the grow, and back when the next instance took the slot — each time flushing
//! the TLB on every core: 8.7 % of heartbeat-host's CPU at 16 connections. 4 MiB holds a
//! heartbeat's heap and matches what heartbeat-host keeps resident between instances, so a
//! heartbeat now changes no protections; reads of a large fleet still grow past it.

fn main() {
    println!("cargo:rustc-link-arg=--initial-memory={}", 4 << 20);
}
