//! The signer's registry commands as the person sees them.

use crate::signer::{RegistryError, SignerHome};

/// `policies`: what is registered and what this signer holds of each, then
/// a warning for every policy file that does not count as registered.
pub fn policies(home: &SignerHome, json: bool) -> Result<(), RegistryError> {
    let summary = home.registered_summary()?;
    let text: String = summary
        .iter()
        .map(|p| format!("{}\n", p.to_line()))
        .collect();
    super::output(json, &summary, &text).expect("reports serialize");
    for stray in home.unregistered_policy_files()? {
        eprintln!("WARNING: {stray}");
    }
    Ok(())
}

/// `retire-policy`: stops signing for a policy whose successor is
/// registered, and says so.
pub fn retire_policy(home: &SignerHome, id: &crate::policy::PolicyId) -> Result<(), RegistryError> {
    let next = home.retire_policy(id)?;
    println!("retired policy {id}; this signer now signs only for its successor {next}");
    Ok(())
}

/// `retire-key`: asks, then wipes the seed if no registered policy uses it.
pub fn retire_key(
    home: &SignerHome,
    terminal: &crate::ui::terminal::Terminal,
    yes: bool,
) -> Result<(), RegistryError> {
    let question = "Wipe this laptop's seed? Only a backup can bring it back";
    if !yes && !crate::ui::terminal::confirm(question).unwrap_or(false) {
        return Err(RegistryError::NotConfirmed);
    }
    home.retire_key(&terminal.passphrase_for(false)?)?;
    println!("the seed was wiped; key.json and the log remain");
    Ok(())
}
