//! What the logs record, as types: one [`Event`] per kind of entry that a
//! signer or the coordinator writes, read back by the same types.
//!
//! On disk an event is a JSON object whose `kind` names the variant and whose
//! other fields are the variant's; the hash chain covers the object exactly
//! as written (keys in sorted order), so these types decide only how an
//! entry is written and read, never how it is hashed. Logs written before
//! the types existed have the same fields and read the same way; fields
//! added since are `#[serde(default)]`, so an older entry without them still
//! reads. An entry of a kind this program does not know (a newer program
//! wrote it) still verifies; [`LogEntry::event`](super::LogEntry::event)
//! reads it as `None`, and every reader here skips it, since none of the
//! counts it could belong to (a daily limit, a registration) are kinds it
//! does not know.

use bitcoin::bip32::Fingerprint;
use bitcoin::hashes::sha256;
use bitcoin::secp256k1::schnorr;
use bitcoin::{Amount, SignedAmount, Txid};
use serde::{Deserialize, Serialize};

mod policy;

pub use policy::{
    PolicyAction, PolicyAdopted, PolicyAnnounced, PolicyRetired, Registered, UpdateApproved,
};

use crate::policy::rules::Movement;
use crate::policy::{ApproverId, PolicyId};

/// One entry of a signer's or the coordinator's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Event {
    /// A signer made a new seed.
    Init(SeedCreated),
    /// A signer restored a seed from its words.
    Restore(SeedCreated),
    /// A signer restored a seed from an age backup.
    RestoreBackup(SeedCreated),
    /// A signer wrote an age backup of its seed.
    Backup(BackupWritten),
    /// An approval key was made on this laptop.
    ApproverInit(ApprovalKeyStored),
    /// An approval key was imported.
    ApproverImport(ApprovalKeyStored),
    /// A signer encrypted its secrets under a new passphrase.
    PassphraseChange(PassphraseChanged),
    /// A signer registered a policy (replacing the vault's previous one, if
    /// `replaced`).
    Register(Registered),
    /// A signer wiped its seed: no registered policy used its key.
    RetireKey(KeyRetired),
    /// A signer retired a policy after migrating to its successor.
    RetirePolicy(PolicyRetired),
    /// A key holder signed.
    Sign(Signed),
    /// An approver approved.
    Approve(Approved),
    /// The coordinator adopted or replaced a policy.
    Policy(PolicyAdopted),
    /// An approver approved a change of the vault's policy.
    ApproveUpdate(UpdateApproved),
    /// The coordinator announced a change of policy it will adopt once the
    /// policy's waiting blocks have passed.
    PolicyAnnounce(PolicyAnnounced),
    /// The coordinator wrote a proposal.
    Proposal(Proposed),
    /// The coordinator saw an approval in a PSBT for the first time.
    Approval(ApprovalSeen),
    /// The coordinator saw a signer's log head in a PSBT for the first time.
    SignerHead(SignerHeadSeen),
    /// The coordinator combined copies of a proposal.
    Combine(Combined),
    /// The coordinator finalized a transaction.
    Finalize(Finalized),
    /// The coordinator broadcast a transaction.
    Broadcast(Broadcast),
    /// The coordinator dropped a proposal.
    Abandon(Abandoned),
}

impl Event {
    /// The `kind` it is written with.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Init(_) => "init",
            Event::Restore(_) => "restore",
            Event::RestoreBackup(_) => "restore-backup",
            Event::Backup(_) => "backup",
            Event::ApproverInit(_) => "approver-init",
            Event::ApproverImport(_) => "approver-import",
            Event::PassphraseChange(_) => "passphrase-change",
            Event::Register(_) => "register",
            Event::RetirePolicy(_) => "retire-policy",
            Event::RetireKey(_) => "retire-key",
            Event::Sign(_) => "sign",
            Event::Approve(_) => "approve",
            Event::Policy(_) => "policy",
            Event::ApproveUpdate(_) => "approve-update",
            Event::PolicyAnnounce(_) => "policy-announce",
            Event::Proposal(_) => "proposal",
            Event::Approval(_) => "approval",
            Event::SignerHead(_) => "signer-head",
            Event::Combine(_) => "combine",
            Event::Finalize(_) => "finalize",
            Event::Broadcast(_) => "broadcast",
            Event::Abandon(_) => "abandon",
        }
    }

    /// Every kind this program writes and reads.
    pub const KINDS: [&'static str; 22] = [
        "init",
        "restore",
        "restore-backup",
        "backup",
        "approver-init",
        "approver-import",
        "passphrase-change",
        "register",
        "retire-policy",
        "retire-key",
        "sign",
        "approve",
        "policy",
        "approve-update",
        "policy-announce",
        "proposal",
        "approval",
        "signer-head",
        "combine",
        "finalize",
        "broadcast",
        "abandon",
    ];
}

/// The head of a signer's log right after it signed: the auditor later checks
/// that the signer's log still holds this entry, so a log cut short or
/// rewritten after the fact is found (see `custodia-auditor log verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SignerHead {
    /// The signer's master fingerprint.
    pub fingerprint: Fingerprint,
    /// The sequence number of the signer's `sign` entry.
    pub seq: u64,
    /// The hash of that entry.
    pub hash: sha256::Hash,
}

/// `init`, `restore`, `restore-backup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedCreated {
    /// The seed's master fingerprint: whose log this is.
    pub fingerprint: Fingerprint,
    /// The network the key is used on.
    pub network: String,
    /// How many words the seed has.
    pub words: usize,
}

/// `backup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupWritten {
    /// The seed's master fingerprint (none for a signer that holds only
    /// approval keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
    /// The age recipients it was encrypted to.
    pub recipients: Vec<String>,
    /// The file written.
    pub file: String,
    /// The approval keys in the backup.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<ApproverId>,
}

/// `retire-key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRetired {
    /// The wiped seed's master fingerprint.
    pub fingerprint: Fingerprint,
}

/// `passphrase-change`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassphraseChanged {
    /// How many secret files were encrypted again.
    pub files: usize,
}

/// `approver-init`, `approver-import`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalKeyStored {
    /// The approver id.
    pub approver: ApproverId,
    /// Its BIP-340 public key.
    pub pubkey: String,
}

/// A signature this signer replaced because it did not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplacedSignatureLogged {
    /// The input.
    pub input: usize,
    /// The policy key it was for.
    pub key: String,
}

/// `sign`: what the daily limits of a key holder are counted from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed {
    /// The signer's master fingerprint (entries of the first releases lack it).
    #[serde(default)]
    pub signer: Option<Fingerprint>,
    /// The policy reviewed against.
    pub policy_id: PolicyId,
    /// The vault (daily limits count per vault).
    pub vault: String,
    /// The transaction.
    pub txid: Txid,
    /// What kind of movement.
    pub movement: Option<Movement>,
    /// What it moved (to the other tier, or outside).
    #[serde(rename = "amount_sat", with = "bitcoin::amount::serde::as_sat")]
    pub amount: Amount,
    /// Its fee, if known.
    #[serde(rename = "fee_sat", default, with = "optional_sat")]
    pub fee: Option<SignedAmount>,
    /// Inputs signed.
    #[serde(default)]
    pub inputs_signed: usize,
    /// The policy keys signed with.
    #[serde(default)]
    pub keys: Vec<String>,
    /// The transaction's nLockTime.
    #[serde(default)]
    pub lock_time: u32,
    /// Bogus signatures replaced.
    #[serde(default)]
    pub replaced_signatures: Vec<ReplacedSignatureLogged>,
    /// Network interfaces other than loopback that were up when the
    /// signer signed: an air-gapped laptop has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub online_interfaces: Vec<String>,
}

/// `approve`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approved {
    /// The policy reviewed against.
    pub policy_id: PolicyId,
    /// The vault (entries of the first releases lack it).
    #[serde(default)]
    pub vault: String,
    /// The transaction approved.
    pub txid: Txid,
    /// The movement approved.
    pub movement: Movement,
    /// What it moves.
    #[serde(rename = "amount_sat", with = "bitcoin::amount::serde::as_sat")]
    pub amount: Amount,
    /// Who approved.
    pub approver: ApproverId,
    /// Network interfaces other than loopback that were up when the
    /// approver approved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub online_interfaces: Vec<String>,
}

/// One output of a proposal: where it pays and how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedOutput {
    /// The address.
    pub address: Option<String>,
    /// The amount.
    #[serde(rename = "amount_sat", with = "bitcoin::amount::serde::as_sat")]
    pub amount: Amount,
    /// `change`, `cold`, `hot` or `external`.
    pub role: String,
}

/// `proposal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposed {
    /// The coordinator's policy.
    pub policy_id: PolicyId,
    /// The kind of movement.
    pub movement: Movement,
    /// The unsigned transaction's id.
    pub txid: Txid,
    /// What it moves.
    #[serde(rename = "amount_sat", with = "bitcoin::amount::serde::as_sat")]
    pub amount: Amount,
    /// Its fee.
    #[serde(rename = "fee_sat", with = "bitcoin::amount::serde::as_sat")]
    pub fee: Amount,
    /// Its outputs.
    #[serde(default)]
    pub outputs: Vec<ProposedOutput>,
    /// The PSBT file written.
    pub file: String,
    /// The proposal it replaces (a fee bump).
    #[serde(default)]
    pub replaces: Option<Txid>,
    /// Spends through the wallet's timelocked recovery path, whose
    /// threshold then applies.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recovery: bool,
}

/// `approval`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalSeen {
    /// The coordinator's policy.
    pub policy_id: PolicyId,
    /// The transaction.
    pub txid: Txid,
    /// The movement approved.
    pub movement: Movement,
    /// Who.
    pub approver: ApproverId,
    /// Their department.
    pub department: String,
    /// The approval itself (BIP-340, over the policy's approval digest), so
    /// that an auditor can verify it from the log alone. Entries of the
    /// first releases lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<schnorr::Signature>,
}

/// `signer-head`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerHeadSeen {
    /// The coordinator's policy.
    pub policy_id: PolicyId,
    /// The transaction the head came with.
    pub txid: Txid,
    /// The signer's log head.
    pub head: SignerHead,
}

/// `combine`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Combined {
    /// The coordinator's policy.
    pub policy_id: PolicyId,
    /// The transaction.
    pub txid: Txid,
    /// The copies combined.
    pub files: Vec<String>,
    /// The file written.
    pub out: String,
    /// Approvers whose approval it holds.
    pub approvers: Vec<ApproverId>,
    /// Signatures per input.
    pub signatures: Vec<usize>,
}

/// `finalize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finalized {
    /// The coordinator's policy.
    pub policy_id: PolicyId,
    /// The transaction.
    pub txid: Txid,
    /// Its movement.
    pub movement: Option<Movement>,
    /// The raw transaction file written.
    pub out: String,
}

/// `broadcast`: what the coordinator's daily limits are counted from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Broadcast {
    /// The coordinator's policy.
    pub policy_id: PolicyId,
    /// The transaction.
    pub txid: Txid,
    /// Its movement, from the proposal (none if not proposed here).
    pub movement: Option<Movement>,
    /// What it moved, from the proposal.
    #[serde(rename = "amount_sat", default, with = "optional_sat")]
    pub amount: Option<Amount>,
    /// Its fee, from the proposal (entries of the first releases lack it).
    #[serde(rename = "fee_sat", default, with = "optional_sat")]
    pub fee: Option<Amount>,
    /// Whether this coordinator proposed it.
    pub proposed: bool,
}

/// `abandon`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Abandoned {
    /// The coordinator's policy.
    pub policy_id: PolicyId,
    /// The proposal dropped.
    pub txid: Txid,
    /// Coins released.
    pub released: usize,
}

pub(crate) mod optional_sat;

#[cfg(test)]
mod tests;
