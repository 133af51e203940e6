//! Logs: `tracing` to stderr (so a CLI's `--json` output on stdout stays clean), human-readable
//! or JSON. Request spans carry a request id, the method and the path, never the query string
//! or headers, where codes and tokens travel.

use std::io::IsTerminal;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// Installs the global subscriber; a second call (tests spawn many apps) is a no-op.
pub fn init(format: LogFormat, filter: &str) {
    init_with_writer(format, filter, std::io::stderr, std::io::stderr().is_terminal());
}

/// The same, writing to `writer` (tests capture the logs to search them for secrets).
pub fn init_with_writer<W>(format: LogFormat, filter: &str, writer: W, ansi: bool)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Text => registry
            .with(fmt::layer().with_ansi(ansi).with_writer(writer))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_writer(writer),
            )
            .try_init(),
    };
}
