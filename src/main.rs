//! Thin: parse the command line, run it, turn any failure into one line and an exit status.

use clap::Parser;

#[tokio::main]
async fn main() {
    return_large_allocations();
    let cli = keyhaven::cli::Cli::parse();
    if let Err(e) = keyhaven::cli::run(cli).await {
        eprintln!("keyhaven: {}", e.message);
        std::process::exit(e.code);
    }
}

/// glibc serves an allocation from its heap instead of mapping it once the same size was freed
/// (its mmap threshold follows the largest freed block), and keeps what its heap holds: after a
/// burst of sign-ins each 19 MiB argon2 block freed that way stayed resident. A fixed threshold
/// maps every allocation of 1 MiB or more and unmaps it when freed, so an idle server gives that
/// memory back.
fn return_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before any other thread
    // starts allocating large blocks, and a refused setting (0) changes nothing.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
