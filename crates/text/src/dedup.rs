//! Near-duplicate texts grouped into matters: MinHash signatures of character-bigram sets, locality-sensitive hashing
//! by bands, candidates kept only inside one unit and one time window, confirmed by the exact Jaccard similarity of
//! the bigram sets, and joined transitively (union–find) into groups.
//!
//! Blocking by unit and window is what keeps template-like texts from different villages ("the road in front of my
//! house is broken") from being merged, and keeps the number of candidate pairs linear in practice.

use crate::features::normalise;
use crate::rng::{Rng, splitmix64};
use rustc_hash::{FxHashMap, FxHasher};
use std::hash::Hasher;

/// One text to group: where and when it was filed.
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    pub unit: &'a str,
    /// Days since any fixed origin (only differences matter).
    pub day: i64,
    pub text: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DedupOptions {
    /// Least Jaccard similarity of the bigram sets for two texts to be the same matter.
    pub threshold: f64,
    /// Largest distance in days between two texts of one matter (pairwise; a group may span more by transitivity).
    pub window_days: i64,
    /// MinHash functions per text.
    pub permutations: usize,
    pub seed: u64,
}

impl Default for DedupOptions {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            window_days: 30,
            permutations: 128,
            seed: 0,
        }
    }
}

/// Bands × rows of the LSH index for a threshold, as datasketch chooses them: the split of at most `permutations`
/// rows minimising the probability of a candidate below the threshold plus that of a miss above it (each the
/// integral of the S-curve `1 − (1 − s^r)^b` over its side, weighted equally).
pub fn bands_for(threshold: f64, permutations: usize) -> (usize, usize) {
    let integrate = |f: &dyn Fn(f64) -> f64, a: f64, b: f64| {
        let steps = 200;
        let h = (b - a) / steps as f64;
        (0..steps).map(|i| f(a + (i as f64 + 0.5) * h)).sum::<f64>() * h
    };
    let mut best = (1, 1);
    let mut best_error = f64::INFINITY;
    for bands in 1..=permutations {
        for rows in 1..=permutations / bands {
            let candidate = |s: f64| 1.0 - (1.0 - s.powi(rows as i32)).powi(bands as i32);
            let false_positive = integrate(&candidate, 0.0, threshold);
            let false_negative = integrate(&|s| 1.0 - candidate(s), threshold, 1.0);
            let error = 0.5 * false_positive + 0.5 * false_negative;
            if error < best_error {
                best_error = error;
                best = (bands, rows);
            }
        }
    }
    best
}

/// The set of character bigrams of a text (a text of one character is its unigram), as sorted well-mixed 32-bit
/// values.
pub fn shingles(text: &str, normalised: &mut String) -> Vec<u32> {
    normalise(text, normalised);
    let mut out = Vec::with_capacity(normalised.len() / 2);
    let mut previous: Option<char> = None;
    for c in normalised.chars() {
        if let Some(p) = previous {
            out.push(splitmix64((p as u64) << 21 | c as u64) as u32);
        }
        previous = Some(c);
    }
    if out.is_empty()
        && let Some(c) = previous
    {
        out.push(splitmix64(c as u64) as u32);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Jaccard similarity of two sorted sets.
pub fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 { 1.0 } else { common as f64 / union as f64 }
}

/// The MinHash family: `h_i(x) = ((x ⊕ b_i) · a_i) ⊕ shift`, 32-bit, a_i odd — a random bijection of the 32-bit
/// shingle values per function, cheap enough for the compiler to run eight lanes at a time.
struct MinHasher {
    multipliers: Vec<u32>,
    offsets: Vec<u32>,
}

impl MinHasher {
    fn new(permutations: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let multipliers = (0..permutations).map(|_| (rng.next_u64() as u32) | 1).collect();
        let offsets = (0..permutations).map(|_| rng.next_u64() as u32).collect();
        Self { multipliers, offsets }
    }

    fn signature(&self, shingles: &[u32], out: &mut Vec<u32>) {
        out.clear();
        out.resize(self.multipliers.len(), u32::MAX);
        for &x in shingles {
            for ((slot, &a), &b) in out.iter_mut().zip(&self.multipliers).zip(&self.offsets) {
                let mut h = (x ^ b).wrapping_mul(a);
                h ^= h >> 16;
                *slot = (*slot).min(h);
            }
        }
    }
}

struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).collect(),
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grandparent = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grandparent;
            x = grandparent;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // The smaller index becomes the root, so a group is named by its first document.
            let (low, high) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[high as usize] = low;
        }
    }
}

/// Groups of two or more documents (indices into `documents`, ascending; groups ordered by their first index).
pub fn group(documents: &[Document<'_>], options: DedupOptions) -> Vec<Vec<usize>> {
    let (bands, rows) = bands_for(options.threshold, options.permutations.max(1));
    let hasher = MinHasher::new(bands * rows, options.seed);
    let mut normalised = String::new();
    let mut signature = Vec::new();
    let mut sets = Vec::with_capacity(documents.len());
    // Bucket key (unit, band, the band's values) → documents, in order of day so a window is a contiguous run.
    let mut order: Vec<usize> = (0..documents.len()).collect();
    order.sort_by_key(|&i| (documents[i].unit, documents[i].day, i));
    let mut buckets: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
    let mut keys_of = vec![Vec::new(); documents.len()];
    for &i in &order {
        let set = shingles(documents[i].text, &mut normalised);
        hasher.signature(&set, &mut signature);
        sets.push((i, set));
        let mut unit_hasher = FxHasher::default();
        unit_hasher.write(documents[i].unit.as_bytes());
        let unit_hash = unit_hasher.finish();
        for band in 0..bands {
            let mut h = FxHasher::default();
            h.write_u64(unit_hash);
            h.write_usize(band);
            for value in &signature[band * rows..(band + 1) * rows] {
                h.write_u32(*value);
            }
            let key = h.finish();
            buckets.entry(key).or_default().push(i as u32);
            keys_of[i].push(key);
        }
    }
    let mut set_of = vec![Vec::new(); documents.len()];
    for (i, set) in sets {
        set_of[i] = set;
    }
    let mut union_find = UnionFind::new(documents.len());
    for &i in &order {
        for key in &keys_of[i] {
            let Some(bucket) = buckets.get(key) else { continue };
            // Earlier documents of the same bucket within the window (the bucket is in day order).
            for &j in bucket.iter().rev() {
                let j = j as usize;
                if j == i || documents[j].unit != documents[i].unit {
                    continue;
                }
                let gap = documents[i].day - documents[j].day;
                if gap < 0 || (gap == 0 && j > i) {
                    continue;
                }
                if gap > options.window_days {
                    break;
                }
                if union_find.find(i as u32) == union_find.find(j as u32) {
                    continue;
                }
                if jaccard(&set_of[i], &set_of[j]) >= options.threshold {
                    union_find.union(i as u32, j as u32);
                }
            }
        }
    }
    let mut members: FxHashMap<u32, Vec<usize>> = FxHashMap::default();
    for i in 0..documents.len() {
        let root = union_find.find(i as u32);
        members.entry(root).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = members.into_values().filter(|g| g.len() > 1).collect();
    groups.sort_by_key(|g| g[0]);
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc<'a>(unit: &'a str, day: i64, text: &'a str) -> Document<'a> {
        Document { unit, day, text }
    }

    #[test]
    fn the_same_complaint_reworded_slightly_is_one_group() {
        let documents = [
            doc(
                "330502001",
                0,
                "村东头的采石场每天放炮，震得房子开裂，粉尘很大，请尽快处理",
            ),
            doc(
                "330502001",
                3,
                "村东头采石场每天放炮，震得我家房子开裂，粉尘很大，请尽快处理",
            ),
            doc("330502001", 5, "小区门口的路灯坏了一个星期了"),
            doc(
                "330502001",
                9,
                "村东头的采石场每天放炮，震得房子开裂，灰尘很大，请尽快处理！",
            ),
        ];
        assert_eq!(group(&documents, DedupOptions::default()), vec![vec![0, 1, 3]]);
    }

    #[test]
    fn another_unit_or_outside_the_window_is_a_different_matter() {
        let text = "村东头的采石场每天放炮，震得房子开裂，粉尘很大，请尽快处理";
        let documents = [
            doc("330502001", 0, text),
            doc("330502002", 0, text),
            doc("330502001", 45, text),
        ];
        assert!(group(&documents, DedupOptions::default()).is_empty());
    }

    #[test]
    fn bands_put_the_s_curve_at_the_threshold() {
        // The S-curve's steepest point (1/b)^(1/r) must sit near the threshold asked for.
        let (bands, rows) = bands_for(0.5, 128);
        let s_curve_middle = (1.0 / bands as f64).powf(1.0 / rows as f64);
        assert!(bands * rows <= 128);
        assert!(
            (0.4..0.6).contains(&s_curve_middle),
            "b={bands} r={rows} middle {s_curve_middle}"
        );
    }

    #[test]
    fn jaccard_of_sorted_sets() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[], &[]), 1.0);
    }
}
