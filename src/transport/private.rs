//! Private files and directories, for every program that keeps some: a data
//! dir is 0700 and every file in it 0600, and a file that others could read
//! or change is refused before it is used, because a secret that may have
//! leaked, or a policy that may have been swapped, must not be used
//! silently. Files are written through [`super::write_atomically`], which
//! creates them 0600.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// Why a private file or directory cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrivateFileError {
    /// Group or others may read or change it.
    #[error("{path} has permissions {mode:04o}: group or others may read or change it; run `chmod {fix:o} {path}` and consider whether the secret was exposed")]
    LoosePermissions {
        /// The file or directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// The mode to set (600 for files, 700 for directories).
        fix: u32,
    },
    /// A path that must be a directory is something else.
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    /// The file system failed.
    #[error("cannot access {path}: {source}; check that the path exists and that you own it")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
}

impl crate::error::Classify for PrivateFileError {
    fn exit_code(&self) -> crate::error::ExitCode {
        match self {
            PrivateFileError::Io { .. } => crate::error::ExitCode::NodeOrIo,
            _ => crate::error::ExitCode::BadInput,
        }
    }
}

impl PrivateFileError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        PrivateFileError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Permission bits of group and others.
#[cfg(unix)]
const GROUP_OTHER: u32 = 0o077;

/// Sets the permission bits of `path` (a file 0600, a directory 0700).
pub fn set_private_mode(path: &Path, mode: u32) -> Result<(), PrivateFileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| PrivateFileError::io(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Creates `dir` (and missing parents) if needed, the last component 0700;
/// refuses an existing directory that group or others can access.
pub fn ensure_private_dir(dir: &Path) -> Result<(), PrivateFileError> {
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err(PrivateFileError::NotADirectory(dir.to_owned())),
        Ok(meta) => check_mode(dir, &meta, 0o700),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| PrivateFileError::io(parent, e))?;
            }
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder
                .create(dir)
                .map_err(|e| PrivateFileError::io(dir, e))
        }
        Err(e) => Err(PrivateFileError::io(dir, e)),
    }
}

/// Checks that an existing file (or directory) is not accessible to group
/// or others. Returns `Ok(false)` if it does not exist.
pub fn check_private_file(path: &Path) -> Result<bool, PrivateFileError> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            let fix = if meta.is_dir() { 0o700 } else { 0o600 };
            check_mode(path, &meta, fix)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(PrivateFileError::io(path, e)),
    }
}

/// Reads a private file, refusing loose permissions. `Ok(None)` if missing.
pub fn read_private(path: &Path) -> Result<Option<Vec<u8>>, PrivateFileError> {
    if !check_private_file(path)? {
        return Ok(None);
    }
    std::fs::read(path)
        .map(Some)
        .map_err(|e| PrivateFileError::io(path, e))
}

/// Reads a secret file (words, an age identity, an approver secret) that
/// must exist and only its owner may read; the bytes are wiped when dropped.
pub fn read_private_secret(path: &Path) -> Result<Zeroizing<Vec<u8>>, PrivateFileError> {
    let bytes = read_private(path)?.ok_or_else(|| {
        PrivateFileError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        )
    })?;
    Ok(Zeroizing::new(bytes))
}

#[cfg(unix)]
fn check_mode(path: &Path, meta: &std::fs::Metadata, fix: u32) -> Result<(), PrivateFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    // A pipe (`--passphrase-file <(...)`) is private to the process; only
    // files and directories that stay on disk are held to the rule.
    if !(meta.is_file() || meta.is_dir()) {
        return Ok(());
    }
    if mode & GROUP_OTHER != 0 {
        return Err(PrivateFileError::LoosePermissions {
            path: path.to_owned(),
            mode,
            fix,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_path: &Path, _meta: &std::fs::Metadata, _fix: u32) -> Result<(), PrivateFileError> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_private_dirs_and_refuses_loose_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/home");
        ensure_private_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        ensure_private_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
        let err = ensure_private_dir(&dir).unwrap_err();
        assert!(err.to_string().contains("chmod 700"), "{err}");
    }

    #[test]
    fn refuses_files_others_can_read() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        assert_eq!(read_private(&file).unwrap(), None);
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_private(&file).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_private(&file).unwrap().unwrap(), b"x");
    }
}
