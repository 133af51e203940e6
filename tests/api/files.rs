//! Files at rest: the data folder, the SQLite database and its companions, and outbox mail are
//! the owner's alone, and a server does not start on files others can read.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use keyhaven::app::Application;
use keyhaven::config::Settings;
use keyhaven::domain::OffsetClock;

use crate::helpers::{random_kek, run_binary, spawn_app, Backend};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn files_at_rest_are_private_to_the_owner() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    app.request_reset("alice@example.com").await;
    app.wait_for_mails(1).await;
    let db = app.dir.path().join("keyhaven.db");
    for file in ["keyhaven.db", "keyhaven.db-wal", "keyhaven.db-shm"] {
        assert_eq!(mode(&app.dir.path().join(file)), 0o600, "{file}");
    }
    assert!(db.exists());
    assert_eq!(mode(&app.dir.path().join("data")), 0o700, "data_dir");
    assert_eq!(mode(&app.outbox()), 0o700, "outbox");
    let mails: Vec<PathBuf> = std::fs::read_dir(app.outbox())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(mails.len(), 1);
    assert_eq!(mode(&mails[0]), 0o600, "{}", mails[0].display());
}

/// A data folder `root/data` holding the database, as in the default layout.
struct Layout {
    _root: tempfile::TempDir,
    data: PathBuf,
    db: PathBuf,
    settings: Vec<(&'static str, String)>,
}

fn layout() -> Layout {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let db = data.join("keyhaven.db");
    let settings = vec![
        ("listen", "127.0.0.1:0".to_owned()),
        ("data_dir", data.display().to_string()),
        ("database_url", format!("sqlite://{}", db.display())),
        ("kek", random_kek()),
        ("log_level", "warn".to_owned()),
    ];
    Layout {
        _root: root,
        data,
        db,
        settings,
    }
}

async fn start(layout: &Layout) -> Result<Application, String> {
    let settings = Settings::from_pairs(layout.settings.iter().map(|(k, v)| (*k, v.clone()))).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Application::build_on(settings, Arc::new(OffsetClock::default()), listener)
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_server_refuses_a_data_folder_or_database_others_can_read() {
    let layout = layout();
    // Positive control: a first start makes the folder 0700 and the database 0600, and a
    // second start on them works.
    drop(start(&layout).await.expect("a fresh start"));
    assert_eq!((mode(&layout.data), mode(&layout.db)), (0o700, 0o600));
    drop(start(&layout).await.expect("a start on private files"));

    chmod(&layout.data, 0o755);
    let refused = start(&layout).await.err().expect("refused: folder 0755");
    assert_eq!(
        refused,
        format!(
            "invalid setting `data_dir` (KEYHAVEN_DATA_DIR): {data} may be read or written by group or others (mode 755); run chmod 700 {data}",
            data = layout.data.display()
        )
    );
    chmod(&layout.data, 0o700);

    chmod(&layout.db, 0o644);
    let refused = start(&layout).await.err().expect("refused: database 0644");
    assert_eq!(
        refused,
        format!(
            "invalid setting `database_url` (KEYHAVEN_DATABASE_URL): {db} may be read or written by group or others (mode 644); run chmod 600 {db}",
            db = layout.db.display()
        )
    );
    chmod(&layout.db, 0o600);
    drop(start(&layout).await.expect("starts again once fixed"));

    // The binary says it in one line and exits 2, before serving anything.
    chmod(&layout.db, 0o640);
    let env: Vec<(String, String)> = layout
        .settings
        .iter()
        .map(|(k, v)| (keyhaven::config::env_name(k), v.clone()))
        .collect();
    let out = run_binary(layout.data.parent().unwrap().to_path_buf(), &env, &["serve"], "");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("keyhaven: invalid setting `database_url`")
            && lines[0].ends_with(&format!("(mode 640); run chmod 600 {}", layout.db.display())),
        "{stderr}"
    );
}
