//! Recovery of UR fragments that the `ur` crate's decoder leaves unresolved.
//!
//! Its decoder only peels: a mixed part is used once all but one of its
//! fragments are known. With a fixed set of frames (files, not an endless
//! animation) and some lost, that can stall with every fragment still
//! determined by the parts at hand: measured with 10 % of frames dropped and
//! 50 % extra frames, one drop pattern in several left one fragment of 122
//! unresolved. Solving the parts as a linear system over GF(2) (Gaussian
//! elimination on what peeling leaves) recovers every fragment the parts
//! determine. The result is checked against the message's CRC-32 as the
//! crate checks its own.

use std::collections::{BTreeSet, HashMap};

use ur::fountain::Part;

/// Unknown fragments beyond which elimination is not tried (its cost grows
/// with the square of them); the caller then reports the set incomplete.
const MAX_UNKNOWN: usize = 512;

/// The distinct parts of one message.
pub struct Solver {
    count: usize,
    length: usize,
    checksum: u32,
    rows: HashMap<Vec<usize>, Vec<u8>>,
}

impl Solver {
    /// A solver for a message of `count` fragments, `length` bytes.
    pub fn new(count: usize, length: usize, checksum: u32) -> Self {
        Solver {
            count,
            length,
            checksum,
            rows: HashMap::new(),
        }
    }

    /// Keeps a part (its CBOR as in the UR); duplicates are dropped.
    pub fn add(&mut self, cbor: &[u8]) -> bool {
        match minicbor::decode::<Part>(cbor) {
            Ok(part) => {
                let indexes = part.indexes();
                if indexes.iter().any(|&i| i >= self.count) {
                    return false;
                }
                self.rows
                    .entry(indexes)
                    .or_insert_with(|| part.data().to_vec());
                true
            }
            Err(_) => false,
        }
    }

    /// The message, if the parts determine every fragment and it checks out.
    pub fn solve(&self) -> Option<Vec<u8>> {
        let mut known: Vec<Option<Vec<u8>>> = vec![None; self.count];
        let mut rows: Vec<(BTreeSet<usize>, Vec<u8>)> = self
            .rows
            .iter()
            .map(|(i, d)| (i.iter().copied().collect(), d.clone()))
            .collect();
        peel(&mut known, &mut rows);
        let unknown: Vec<usize> = (0..self.count).filter(|&i| known[i].is_none()).collect();
        if unknown.len() > MAX_UNKNOWN {
            return None;
        }
        if !unknown.is_empty() {
            eliminate(&unknown, &mut known, &rows)?;
        }
        let mut message: Vec<u8> = known.into_iter().flatten().flatten().collect();
        if message.len() < self.length || message[self.length..].iter().any(|&b| b != 0) {
            return None;
        }
        message.truncate(self.length);
        let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
        (crc.checksum(&message) == self.checksum).then_some(message)
    }
}

fn xor(into: &mut [u8], from: &[u8]) {
    into.iter_mut().zip(from).for_each(|(a, b)| *a ^= b);
}

/// Substitutes known fragments until no part yields a new one.
fn peel(known: &mut [Option<Vec<u8>>], rows: &mut Vec<(BTreeSet<usize>, Vec<u8>)>) {
    loop {
        let mut progress = false;
        for (indexes, data) in rows.iter_mut() {
            let solved: Vec<usize> = indexes
                .iter()
                .copied()
                .filter(|&i| known[i].is_some())
                .collect();
            for i in solved {
                xor(data, known[i].as_ref().expect("known"));
                indexes.remove(&i);
            }
            if indexes.len() == 1 {
                let i = *indexes.iter().next().expect("one");
                known[i] = Some(std::mem::take(data));
                indexes.clear();
                progress = true;
            }
        }
        rows.retain(|(indexes, _)| !indexes.is_empty());
        if !progress {
            return;
        }
    }
}

/// Gaussian elimination over GF(2) on the `unknown` fragments.
fn eliminate(
    unknown: &[usize],
    known: &mut [Option<Vec<u8>>],
    rows: &[(BTreeSet<usize>, Vec<u8>)],
) -> Option<()> {
    let column: HashMap<usize, usize> = unknown.iter().enumerate().map(|(c, &i)| (i, c)).collect();
    let words = unknown.len().div_ceil(64);
    let mut matrix: Vec<(Vec<u64>, Vec<u8>)> = rows
        .iter()
        .map(|(indexes, data)| {
            let mut bits = vec![0u64; words];
            for i in indexes {
                let c = column[i];
                bits[c / 64] |= 1 << (c % 64);
            }
            (bits, data.clone())
        })
        .collect();
    for c in 0..unknown.len() {
        let (word, bit) = (c / 64, 1u64 << (c % 64));
        let pivot = (c..matrix.len()).find(|&r| matrix[r].0[word] & bit != 0)?;
        matrix.swap(c, pivot);
        let (head, rest) = matrix.split_at_mut(c);
        let (pivot, tail) = rest.split_first_mut().expect("pivot row");
        for row in head.iter_mut().chain(tail.iter_mut()) {
            if row.0[word] & bit != 0 {
                row.0.iter_mut().zip(&pivot.0).for_each(|(a, b)| *a ^= b);
                xor(&mut row.1, &pivot.1);
            }
        }
    }
    for (c, &i) in unknown.iter().enumerate() {
        known[i] = Some(std::mem::take(&mut matrix[c].1));
    }
    Some(())
}
