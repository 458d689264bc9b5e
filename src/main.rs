// mimalloc instead of glibc's malloc: under a server's steady load glibc keeps freed memory in
// per-thread arenas (tokio's blocking threads come and go), and resident memory climbed for ten
// minutes in the soak (docs/benchmarks.md); mimalloc returns it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    wangju::cli::main()
}
