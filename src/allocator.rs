//! How the process's allocator treats large buffers. glibc serves allocations above its mmap
//! threshold (128 KiB) with their own mappings, returned to the system when freed, but it
//! raises that threshold to the size of each such buffer freed (up to 32 MiB). After the first
//! argon2 hash (19 MiB) or a body near the 256 KiB limit, large buffers come from the heap
//! arenas instead, and a burst of them stays resident long after it is freed: a schemathesis
//! run left the ingress at 338 MiB of which 81 MiB were live. A fixed threshold keeps large
//! buffers in mappings of their own: 53 MiB after the same run.

/// The threshold above which a buffer gets its own mapping (glibc's default, made fixed).
pub const MMAP_THRESHOLD_BYTES: i32 = 128 * 1024;

/// Fixes the mmap threshold (glibc only; other allocators already return large buffers).
/// Call once, early: [`crate::process::main`] does, for every binary.
pub fn return_large_buffers_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a malloc tunable; it is safe to call at any time, and a
    // refused value (it returns 0) leaves the default behaviour in place.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
    }
}
