//! An offline laptop that is not offline: the network interfaces other
//! than loopback that are up, read from Linux's `/sys/class/net`. The signer
//! warns before it asks for a passphrase and records them with every
//! signature and approval, so an auditor sees a key used on a connected
//! machine. Elsewhere than Linux nothing is read and nothing is said.

use std::path::Path;

/// Interfaces other than loopback whose `operstate` is `up`, sorted.
pub fn interfaces_up() -> Vec<String> {
    if !cfg!(target_os = "linux") {
        return Vec::new();
    }
    interfaces_up_in(&net_class_dir())
}

/// Where the interfaces are listed: `/sys/class/net`, or in debug builds
/// `CUSTODIA_NET_CLASS_DIR` (tests give a directory of their own, with and
/// without an interface up; a release build always reads the system's).
fn net_class_dir() -> std::path::PathBuf {
    #[cfg(debug_assertions)]
    if let Some(dir) = std::env::var_os("CUSTODIA_NET_CLASS_DIR") {
        return dir.into();
    }
    "/sys/class/net".into()
}

/// [`interfaces_up`] under `root` (a directory laid out as
/// `/sys/class/net`: one directory per interface holding `operstate`).
/// Loopback is left out by name and by its `type` (772); an unreadable
/// listing counts as no interface, since the warning is advice, not a
/// guarantee.
pub fn interfaces_up_in(root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let read = |dir: &Path, file: &str| {
        std::fs::read_to_string(dir.join(file))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let mut up: Vec<String> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let dir = entry.path();
            let loopback = name == "lo" || read(&dir, "type") == "772";
            (!loopback && read(&dir, "operstate") == "up").then_some(name)
        })
        .collect();
    up.sort();
    up
}

/// The warning for `interfaces`, if any is up.
pub fn warning(interfaces: &[String]) -> Option<String> {
    (!interfaces.is_empty()).then(|| {
        format!(
            "WARNING: this laptop is online: network interface(s) {} up. A signer belongs on a machine that never touches a network; disconnect it before you enter a passphrase. Signatures and approvals made now record the interfaces in the signer's log.",
            interfaces.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interface(root: &Path, name: &str, state: &str, kind: &str) {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("operstate"), format!("{state}\n")).unwrap();
        std::fs::write(dir.join("type"), format!("{kind}\n")).unwrap();
    }

    #[test]
    fn only_interfaces_that_are_up_and_not_loopback_count() {
        let root = tempfile::tempdir().unwrap();
        interface(root.path(), "lo", "unknown", "772");
        interface(root.path(), "wlan0", "down", "1");
        assert!(interfaces_up_in(root.path()).is_empty());
        assert_eq!(warning(&[]), None);
        interface(root.path(), "eth0", "up", "1");
        interface(root.path(), "lo2", "up", "772");
        let up = interfaces_up_in(root.path());
        assert_eq!(up, ["eth0"]);
        assert!(warning(&up).unwrap().contains("this laptop is online"));
        assert!(interfaces_up_in(&root.path().join("missing")).is_empty());
    }
}
