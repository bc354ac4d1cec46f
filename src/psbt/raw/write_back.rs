//! Writing a PSBT back: the maps as read, plus only what the signer or
//! approver added (or the signatures it was allowed to replace).

use bitcoin::consensus::encode::serialize;

use super::*;

impl RawPsbt {
    /// Binary serialization, maps and pairs in the order held.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        for map in std::iter::once(&self.global)
            .chain(&self.inputs)
            .chain(&self.outputs)
        {
            for p in &map.0 {
                out.extend(serialize(&bitcoin::VarInt(p.key.len() as u64)));
                out.extend(&p.key);
                out.extend(serialize(&bitcoin::VarInt(p.value.len() as u64)));
                out.extend(&p.value);
            }
            out.push(0);
        }
        out
    }

    /// [`with_changes`](Self::with_changes) with nothing replaced.
    #[cfg(test)]
    pub fn with_additions(&self, before: &RawPsbt, after: &RawPsbt) -> Result<RawPsbt, PsbtError> {
        self.with_changes(before, after, &[])
    }

    /// `self` plus the pairs `after` has and `before` had not. `before` and
    /// `after` are v0 forms of this PSBT before and after signing or
    /// approving. Any pair changed or removed is refused: custodia only adds,
    /// except that the value of each `(input, key)` in `replaced` may change:
    /// a signer replacing a signature for its own key that did not verify.
    /// Only signature fields (`PSBT_IN_PARTIAL_SIG`, `PSBT_IN_TAP_SCRIPT_SIG`)
    /// can be named; any other change or removal is still refused.
    pub fn with_changes(
        &self,
        before: &RawPsbt,
        after: &RawPsbt,
        replaced: &[(usize, Vec<u8>)],
    ) -> Result<RawPsbt, PsbtError> {
        if before.inputs.len() != after.inputs.len() || before.outputs.len() != after.outputs.len()
        {
            return Err(PsbtError::WouldChange(
                "the number of inputs or outputs".into(),
            ));
        }
        if let Some((i, key)) = replaced.iter().find(|(i, key)| {
            *i >= before.inputs.len()
                || !matches!(key.first(), Some(&IN_PARTIAL_SIG | &IN_TAP_SCRIPT_SIG))
        }) {
            return Err(PsbtError::WouldChange(format!(
                "{} in input {i} (only a signature may be replaced)",
                hex(key)
            )));
        }
        let add = |base: &RawMap, b: &RawMap, a: &RawMap, name: &str, may_change: &[&[u8]]| {
            let mut out = base.clone();
            for p in &a.0 {
                match b.get(&p.key) {
                    Some(v) if v == p.value.as_slice() => {}
                    Some(_) if may_change.contains(&p.key.as_slice()) => {
                        match out.0.iter_mut().find(|o| o.key == p.key) {
                            Some(o) => o.value.clone_from(&p.value),
                            None => {
                                return Err(PsbtError::WouldChange(format!(
                                    "{} in the {name} (not in the original map)",
                                    hex(&p.key)
                                )))
                            }
                        }
                    }
                    Some(_) => {
                        return Err(PsbtError::WouldChange(format!(
                            "{} in the {name}",
                            hex(&p.key)
                        )))
                    }
                    None => out.0.push(p.clone()),
                }
            }
            if let Some(p) = b.0.iter().find(|p| a.get(&p.key).is_none()) {
                return Err(PsbtError::WouldChange(format!(
                    "{} in the {name} (removed)",
                    hex(&p.key)
                )));
            }
            Ok(out)
        };
        let may_change = |input: usize| -> Vec<&[u8]> {
            replaced
                .iter()
                .filter(|(i, _)| *i == input)
                .map(|(_, k)| k.as_slice())
                .collect()
        };
        Ok(RawPsbt {
            version: self.version,
            global: add(
                &self.global,
                &before.global,
                &after.global,
                "global map",
                &[],
            )?,
            inputs: (0..self.inputs.len())
                .map(|i| {
                    add(
                        &self.inputs[i],
                        &before.inputs[i],
                        &after.inputs[i],
                        &format!("input {i}"),
                        &may_change(i),
                    )
                })
                .collect::<Result<_, _>>()?,
            outputs: (0..self.outputs.len())
                .map(|i| {
                    add(
                        &self.outputs[i],
                        &before.outputs[i],
                        &after.outputs[i],
                        &format!("output {i}"),
                        &[],
                    )
                })
                .collect::<Result<_, _>>()?,
        })
    }
}
