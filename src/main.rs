//! Thin: parse the command line, run it, turn any failure into one line and an exit status.

use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = keyhaven::cli::Cli::parse();
    if let Err(e) = keyhaven::cli::run(cli).await {
        eprintln!("keyhaven: {}", e.message);
        std::process::exit(e.code);
    }
}
