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
