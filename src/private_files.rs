//! Files at rest that only the owner may read: the data folder, the SQLite database and its
//! `-wal`/`-shm` companions, the mail outbox. They are created private, and one found open to
//! group or others stops the program with a line naming the path and the fix. (A database kept
//! outside the data folder may sit in a folder others can list, not one they can write in.)

use std::path::Path;

/// Creates `dir` and any missing parents, owner only (0700).
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Creates an empty file owner only (0600) unless it exists, so that whoever fills it (SQLite)
/// never makes it with the process's umask.
pub fn create_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// `Err` with the one line to show when `path` exists and group or others have any access to
/// it; a missing path is fine.
pub fn check(path: &Path) -> Result<(), String> {
    match mode(path)? {
        Some((mode, is_dir)) if mode & 0o077 != 0 => Err(format!(
            "{path} may be read or written by group or others (mode {mode:o}); run chmod {fix} {path}",
            path = path.display(),
            fix = if is_dir { "700" } else { "600" },
        )),
        _ => Ok(()),
    }
}

/// `Err` with the one line to show when group or others may write in the folder `dir` (they
/// could replace or remove the files in it); a missing folder is fine.
pub fn check_not_writable(dir: &Path) -> Result<(), String> {
    match mode(dir)? {
        Some((mode, _)) if mode & 0o022 != 0 => Err(format!(
            "{dir} may be written by group or others (mode {mode:o}); run chmod go-w {dir}",
            dir = dir.display(),
        )),
        _ => Ok(()),
    }
}

/// The permission bits of `path` and whether it is a folder; None when it does not exist (or
/// on a system without Unix modes).
fn mode(path: &Path) -> Result<Option<(u32, bool)>, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(path) {
            Ok(metadata) => Ok(Some((metadata.permissions().mode() & 0o777, metadata.is_dir()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(None)
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn made_private_and_checked() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_dir(&dir).unwrap();
        assert_eq!((mode(&root.path().join("a")), mode(&dir)), (0o700, 0o700));
        let file = dir.join("f");
        create_file(&file).unwrap();
        create_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(check(&dir), Ok(()));
        assert_eq!(check(&file), Ok(()));
        assert_eq!(check(&dir.join("missing")), Ok(()));

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        let line = check(&file).unwrap_err();
        assert!(
            line.ends_with(&format!("(mode 640); run chmod 600 {}", file.display())),
            "{line}"
        );
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o711)).unwrap();
        let line = check(&dir).unwrap_err();
        assert!(
            line.ends_with(&format!("(mode 711); run chmod 700 {}", dir.display())),
            "{line}"
        );
        assert_eq!(check_not_writable(&dir), Ok(()));
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o775)).unwrap();
        let line = check_not_writable(&dir).unwrap_err();
        assert!(
            line.ends_with(&format!("(mode 775); run chmod go-w {}", dir.display())),
            "{line}"
        );
    }
}
