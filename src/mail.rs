//! Outgoing mail, sent off the request path: handlers queue a message and a task delivers it
//! with retries. With `smtp_url` set it goes over SMTP (STARTTLS for smtp://, TLS for
//! smtps://); without, each message is written as an `.eml` file under `<data_dir>/outbox`
//! and its path logged, so a person running locally can open the link. Outbox files are
//! owner only (0600, in a 0700 folder) and the housekeeping pass deletes them once the links
//! they carry have expired (`janitor::sweep_outbox`).
//!
//! The queue is in memory, not in the store: a message holds a live secret (a reset link), and
//! this way it is never written anywhere but to its recipient. A crash loses queued mail; the
//! person asks again.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use crate::config::Settings;

const QUEUE: usize = 1_000;
const ATTEMPTS: u64 = 4;

pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// What kind of mail this is, for logs (never the body: it may hold a link).
    pub kind: &'static str,
}

impl fmt::Debug for Mail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mail").field("kind", &self.kind).finish_non_exhaustive()
    }
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

#[derive(Clone)]
pub struct Mailer {
    queue: mpsc::Sender<Mail>,
    /// Messages queued and not yet delivered or given up on.
    pending: Arc<AtomicUsize>,
}

impl Mailer {
    pub fn start(settings: &Settings) -> Result<Self, String> {
        let from: Mailbox = settings
            .mail_from
            .parse()
            .map_err(|_| "mail_from is not a mailbox".to_owned())?;
        let transport = match &settings.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|_| "smtp_url cannot be used".to_owned())?
                    .build(),
            ),
            None => {
                let dir = outbox(settings);
                crate::private_files::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                crate::private_files::check(&dir)?;
                Transport::Outbox(dir)
            }
        };
        let (queue, receiver) = mpsc::channel(QUEUE);
        let pending = Arc::new(AtomicUsize::new(0));
        tokio::spawn(deliver(transport, from, receiver, pending.clone()));
        Ok(Self { queue, pending })
    }

    /// Queues a message; never fails the request that asked for it.
    pub fn send(&self, mail: Mail) {
        let kind = mail.kind;
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.queue.try_send(mail).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            tracing::error!(kind, "mail queue full; message dropped");
        }
    }

    /// Waits (at most `within`) until every queued message is delivered or given up on: a
    /// command-line process must not exit with mail still queued.
    pub async fn flush(&self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while self.pending.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Where mail goes without `smtp_url`.
pub fn outbox(settings: &Settings) -> PathBuf {
    settings.data_dir.join("outbox")
}

/// Writes `message` as a new owner-only `.eml` file in `dir` (lettre's file transport would
/// make it with the process's umask); returns its path. The file is written as `.eml.part`
/// and renamed, so whoever reads the outbox never sees half a mail.
async fn write_to_outbox(dir: &Path, message: &Message) -> Result<PathBuf, String> {
    let name = uuid::Uuid::new_v4();
    let partial = dir.join(format!("{name}.eml.part"));
    let path = dir.join(format!("{name}.eml"));
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&partial).await.map_err(|e| e.to_string())?;
    file.write_all(&message.formatted()).await.map_err(|e| e.to_string())?;
    file.flush().await.map_err(|e| e.to_string())?;
    drop(file);
    tokio::fs::rename(&partial, &path).await.map_err(|e| e.to_string())?;
    Ok(path)
}

async fn deliver(transport: Transport, from: Mailbox, mut receiver: mpsc::Receiver<Mail>, pending: Arc<AtomicUsize>) {
    while let Some(mail) = receiver.recv().await {
        deliver_one(&transport, &from, mail).await;
        pending.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn deliver_one(transport: &Transport, from: &Mailbox, mail: Mail) {
    {
        let message = match mail.to.parse::<Mailbox>().map_err(|e| e.to_string()).and_then(|to| {
            Message::builder()
                .from(from.clone())
                .to(to)
                .subject(mail.subject.clone())
                .header(ContentType::TEXT_PLAIN)
                .body(mail.body.clone())
                .map_err(|e| e.to_string())
        }) {
            Ok(message) => message,
            Err(e) => {
                tracing::error!(kind = mail.kind, error = %e, "cannot build mail; dropped");
                return;
            }
        };
        for attempt in 1..=ATTEMPTS {
            let result = match transport {
                Transport::Smtp(smtp) => smtp
                    .send(message.clone())
                    .await
                    .map(|_| None)
                    .map_err(|e| e.to_string()),
                Transport::Outbox(dir) => write_to_outbox(dir, &message).await.map(Some),
            };
            match result {
                Ok(Some(path)) => {
                    tracing::info!(kind = mail.kind, path = %path.display(), "mail written to the outbox");
                    break;
                }
                Ok(None) => {
                    tracing::info!(kind = mail.kind, "mail sent");
                    break;
                }
                Err(e) if attempt < ATTEMPTS => {
                    tracing::warn!(kind = mail.kind, attempt, error = %e, "mail delivery failed; will retry");
                    tokio::time::sleep(Duration::from_secs(2u64.pow(u32::try_from(attempt).unwrap_or(1)))).await;
                }
                Err(e) => tracing::error!(kind = mail.kind, error = %e, "mail delivery failed; giving up"),
            }
        }
    }
}
