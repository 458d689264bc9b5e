// mimalloc instead of glibc's malloc for Rust's allocations: under a server's steady load glibc
// keeps freed memory in per-thread arenas (tokio's blocking threads come and go), and resident
// memory climbed for ten minutes in the soak (docs/benchmarks.md); mimalloc returns it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`: its place in `enum mi_option_e` (mimalloc.h), the same in
/// v2 and v3; libmimalloc-sys names it only for v2.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    bound_allocators();
    wangju::cli::main()
}

/// Resident memory that follows the live heap (the soak in docs/benchmarks.md, issue 16):
/// - mimalloc gives freed pages back at once. Version 3 waits a second, and a purge that comes
///   due while nothing allocates on that arena waits on: with the default, the soak's mimalloc
///   memory rose ~6 MB a minute; with 0 it stayed flat.
/// - SQLite is C and allocates with glibc, one arena per connection thread by default; each
///   arena kept its own high-water mark (3-4 MB mapped, 0.5 MB in use). Two arenas shared by
///   all of them hold about a third of that.
#[allow(unsafe_code)]
fn bound_allocators() {
    // SAFETY: each call sets one integer option of an allocator and has no precondition; they
    // run first in main, before any thread of ours exists.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
