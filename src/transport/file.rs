//! Files written so that a crash or a full disk never leaves half a file, and
//! so that an input is never overwritten by its own output.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Classify, ExitCode};

/// A file could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// Writing failed; nothing was left behind.
    #[error(
        "cannot write {path}: {source}; check free space and permissions, nothing was written"
    )]
    Write {
        /// Destination.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Reading failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// Source.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The destination exists and the caller asked never to replace files.
    #[error("{0} already exists; choose another output file (custodia never overwrites a file it did not create just now)")]
    Exists(PathBuf),
}

impl Classify for FileError {
    fn exit_code(&self) -> ExitCode {
        match self {
            FileError::Exists(_) => ExitCode::BadInput,
            FileError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                ExitCode::BadInput
            }
            _ => ExitCode::NodeOrIo,
        }
    }
}

fn temp_in(path: &Path) -> Result<tempfile::NamedTempFile, FileError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".custodia-")
        .tempfile_in(dir)
        .map_err(|source| FileError::Write {
            path: path.to_owned(),
            source,
        })
}

fn fill(
    mut tmp: tempfile::NamedTempFile,
    path: &Path,
    bytes: &[u8],
) -> Result<tempfile::NamedTempFile, FileError> {
    let wrap = |source| FileError::Write {
        path: path.to_owned(),
        source,
    };
    crate::crash_point::reached("write temporary file");
    tmp.write_all(bytes).map_err(wrap)?;
    crate::crash_point::reached("sync temporary file");
    tmp.as_file().sync_all().map_err(wrap)?;
    Ok(tmp)
}

/// Syncs the directory holding `path`, so that a file just renamed into it
/// is still there under its name after a power cut, not only its data.
pub fn sync_parent(path: &Path) -> std::io::Result<()> {
    crate::crash_point::reached("sync directory");
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same directory,
/// synced and renamed into place: readers see the old file or the new one,
/// never a part. Replaces an existing file. The file is created 0600.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let tmp = fill(temp_in(path)?, path, bytes)?;
    crate::crash_point::reached("rename into place");
    tmp.persist(path).map_err(|e| FileError::Write {
        path: path.to_owned(),
        source: e.error,
    })?;
    sync_parent(path).map_err(|source| FileError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Like [`write_atomically`] but refuses to replace an existing file, so a
/// signed PSBT can never land on top of its input or an earlier result.
pub fn write_new_atomically(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    PreparedFile::new(path, bytes)?.commit()
}

/// A new file written and synced under a temporary name beside its place,
/// not yet visible there: what a signer prepares before it logs a signature,
/// so that the log entry is followed only by a rename. Dropped without
/// [`commit`](PreparedFile::commit), it leaves nothing behind.
#[derive(Debug)]
pub struct PreparedFile {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl PreparedFile {
    /// Writes `bytes` for `path` (created 0600 when committed).
    pub fn new(path: &Path, bytes: &[u8]) -> Result<PreparedFile, FileError> {
        Ok(PreparedFile {
            tmp: fill(temp_in(path)?, path, bytes)?,
            path: path.to_owned(),
        })
    }

    /// Where it goes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames it into place, refusing to replace a file that exists.
    pub fn commit(self) -> Result<(), FileError> {
        let path = self.path;
        crate::crash_point::reached("rename into place");
        self.tmp.persist_noclobber(&path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                FileError::Exists(path.clone())
            } else {
                FileError::Write {
                    path: path.clone(),
                    source: e.error,
                }
            }
        })?;
        sync_parent(&path).map_err(|source| FileError::Write { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_files_never_replace_old_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.psbt");
        write_new_atomically(&p, b"first").unwrap();
        let err = write_new_atomically(&p, b"second").unwrap_err();
        assert!(matches!(err, FileError::Exists(_)));
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
        write_atomically(&p, b"third").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"third");
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // A prepared file is invisible until committed, and gone if dropped.
        let q = dir.path().join("prepared.psbt");
        let prepared = PreparedFile::new(&q, b"later").unwrap();
        assert!(!q.exists());
        prepared.commit().unwrap();
        assert_eq!(std::fs::read(&q).unwrap(), b"later");
        drop(PreparedFile::new(&dir.path().join("dropped"), b"x").unwrap());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
