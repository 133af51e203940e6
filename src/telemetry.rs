//! Logs: `tracing` to stderr (so a CLI's `--json` output on stdout stays clean), human-readable
//! or JSON. Request spans carry a request id, the method and the path, never the query string
//! or headers, where codes and tokens travel.
//!
//! Field values and messages often hold what a request sent (a failing `client_id`, say). In
//! the text format every control character in them is escaped by one field formatter, so no
//! call site can let a request start a forged log line or send escape sequences to a terminal.
//! The JSON format needs nothing more: serde escapes control characters in strings.

use std::fmt::{self, Write as _};
use std::io::IsTerminal;

use tracing::field::{Field, Visit};
use tracing_subscriber::field::{RecordFields, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};
use tracing_subscriber::fmt::{FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

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
    let _ = subscriber(format, filter, writer, ansi).try_init();
}

/// The subscriber `init` installs, built but not installed (unit tests use it locally).
pub fn subscriber<W>(
    format: LogFormat,
    filter: &str,
    writer: W,
    ansi: bool,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Text => Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(EscapedFields)
                    .with_ansi(ansi)
                    .with_writer(writer),
            ),
        ),
        LogFormat::Json => Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_writer(writer),
            ),
        ),
    }
}

/// The text format's field formatter: the default layout (`message name=value ...`), with
/// every control character of every value and message escaped.
pub struct EscapedFields;

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = Escaping(DefaultVisitor::new(writer, true));
        fields.record(&mut visitor);
        visitor.0.finish()
    }
}

/// Hands every value to the inner visitor wrapped in [`Escaped`].
struct Escaping<V>(V);

impl<V: Visit> Visit for Escaping<V> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.record_debug(field, &Escaped(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        // The default layout prints a string message bare and other strings quoted.
        if field.name() == "message" {
            self.0.record_debug(field, &Escaped(&format_args!("{value}")));
        } else {
            self.0.record_debug(field, &Escaped(&value));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.0.record_debug(field, &Escaped(&format_args!("{text}")));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.record_i64(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.record_u64(field, value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.0.record_i128(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.0.record_u128(field, value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.record_f64(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.record_bool(field, value);
    }
}

/// A value whose `Debug` output has its control characters escaped.
struct Escaped<'a>(&'a dyn fmt::Debug);

impl fmt::Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(EscapingWriter(f), "{:?}", self.0)
    }
}

struct EscapingWriter<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for EscapingWriter<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Runs of plain characters go out in one piece; only what needs escaping is rewritten.
        let mut plain_from = 0;
        for (at, ch) in s.char_indices().filter(|(_, ch)| needs_escape(*ch)) {
            self.0.write_str(s.get(plain_from..at).unwrap_or_default())?;
            plain_from = at + ch.len_utf8();
            match ch {
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                ch => write!(self.0, "\\u{{{:x}}}", u32::from(ch))?,
            }
        }
        self.0.write_str(s.get(plain_from..).unwrap_or_default())
    }
}

/// C0 and C1 controls (ESC among them), DEL, the Unicode line and paragraph separators, and
/// the bidirectional overrides that can make a line read differently from what it holds.
fn needs_escape(ch: char) -> bool {
    ch.is_control() || matches!(ch, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    const HOSTILE: &str = "evil\nFORGED line\r\u{1b}[31mred\u{1b}[0m\u{85}\u{2028}\u{202e}end";

    fn logged(format: LogFormat, ansi: bool) -> String {
        let buffer = Buffer::default();
        let subscriber = subscriber(format, "info", buffer.clone(), ansi);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", route = %HOSTILE);
            let _entered = span.enter();
            tracing::info!(client_id = %HOSTILE, debug = ?HOSTILE, plain = HOSTILE, "failed for {}", HOSTILE);
        });
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn text_logs_escape_control_characters_in_every_value_and_message() {
        for ansi in [false, true] {
            let text = logged(LogFormat::Text, ansi);
            assert_eq!(text.matches('\n').count(), 1, "one line: {text:?}");
            assert!(!text.contains('\r') && !text.contains("\u{85}") && !text.contains('\u{2028}'));
            assert!(!text.contains("\u{1b}[31m") && !text.contains('\u{202e}'), "{text:?}");
            // Every value as sent, escaped: the span's field, the message and three fields.
            let escaped = "evil\\nFORGED line\\r\\u{1b}[31mred\\u{1b}[0m\\u{85}\\u{2028}\\u{202e}end";
            assert_eq!(text.matches(escaped).count(), 5, "{text:?}");
            if !ansi {
                assert!(text.contains("route=evil\\nFORGED"), "{text:?}");
                assert!(text.contains("failed for evil\\nFORGED"), "{text:?}");
                assert!(text.contains("client_id=evil\\nFORGED"), "{text:?}");
            }
        }
    }

    #[test]
    fn text_logs_keep_plain_values_as_they_are() {
        let buffer = Buffer::default();
        tracing::subscriber::with_default(subscriber(LogFormat::Text, "info", buffer.clone(), false), || {
            tracing::info!(client_id = %"khc-plain_id.1", count = 3, ok = true, "client authentication failed");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.ends_with("client authentication failed client_id=khc-plain_id.1 count=3 ok=true\n"),
            "{text:?}"
        );
    }

    #[test]
    fn json_logs_escape_control_characters_too() {
        let text = logged(LogFormat::Json, false);
        assert_eq!(text.matches('\n').count(), 1, "one line: {text:?}");
        assert!(!text.contains('\r') && !text.contains('\u{1b}'), "{text:?}");
        let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(line["client_id"], HOSTILE, "the value survives, escaped by JSON");
    }
}
