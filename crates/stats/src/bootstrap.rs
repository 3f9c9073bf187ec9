//! Multiplier bootstrap with Rademacher weights over a matrix of influence
//! functions (`did::mboot`): standard errors from the interquartile range of the
//! draws and the sup-t critical value for uniform confidence bands.
//!
//! The draws are one product `S · Ψ` (signs × influence functions), computed from
//! the sign bits by tables of partial sums (see [`draw`]), column tiles in parallel.
//! Aggregations are linear in the
//! cell influence functions plus a function of each unit's group, so their draws
//! are linear combinations of the draws of the cells and of group indicators: the
//! product is done once per evaluation. Each block's signs come from
//! its own xoshiro256++ stream seeded from (seed, block), so results depend on the
//! seed only, not on the number of threads, and every call with the same seed and
//! the same units reuses the same multipliers (aggregations and cells share draws).

use faer::{Mat, MatRef};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

/// Bootstrap settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Bootstrap {
    /// Number of draws (did's `biters`, default 1000).
    pub reps: usize,
    /// Seed of the multiplier streams.
    pub seed: u64,
}

/// Output of one bootstrap run.
#[derive(Debug, Clone)]
pub(crate) struct BootResult {
    /// Bootstrap standard error per column (None where degenerate).
    pub se: Vec<Option<f64>>,
    /// Sup-t critical value at level 1 − alpha over the usable columns (NaN if none).
    pub crit_val: f64,
}

/// Units per chunk of the draw product.
const CHUNK: usize = 2048;

fn block_seed(seed: u64, block: u64) -> u64 {
    // splitmix64 finaliser of (seed, block): decorrelates neighbouring streams.
    let mut z = seed ^ block.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `numpy.quantile(..., method="inverted_cdf")` (R `quantile(type = 1)`) of sorted data.
#[cfg(test)]
pub(crate) fn quantile_inverted_cdf(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    sorted[inverted_cdf_rank(n, p)]
}

/// The index in sorted order of the `p` quantile of n values (`inverted_cdf`).
fn inverted_cdf_rank(n: usize, p: f64) -> usize {
    let k = (p * n as f64).ceil() as usize;
    k.clamp(1, n) - 1
}

/// [`quantile_inverted_cdf`] without sorting: the order statistic it picks, found by
/// selection (the same value, since values equal under `total_cmp` are identical).
/// Reorders `data`; only the part before the selected index is left for a smaller rank.
fn select_quantile(data: &mut [f64], p: f64) -> f64 {
    if data.is_empty() {
        return f64::NAN;
    }
    let rank = inverted_cdf_rank(data.len(), p);
    *data.select_nth_unstable_by(rank, f64::total_cmp).1
}

/// Bootstrap draws of a set of influence functions: `reps × columns`, each entry
/// `sqrt(rows) · mean_r(U_r ψ_r)` over units (or cluster sums) r.
#[derive(Debug, Clone)]
pub(crate) struct Draws {
    pub mat: Mat<f64>,
    /// Units, or clusters when clustering.
    pub rows: usize,
    /// Units.
    pub n: usize,
}

/// Units per table of the sign product (one byte of signs indexes 2⁸ partial sums).
const TABLE_UNITS: usize = 8;
/// Tables used together per pass over the draws (32 units per pass).
const TABLES: usize = 4;
/// Columns per tile: the tables (4 × 256 × 64 × 8 B) and the tile's draws (reps × 64 × 8 B) stay in L2.
const TILE: usize = 64;

/// Spreads the 8 bits of `byte` into the low bit of 8 bytes (bit k → byte k).
fn spread(byte: u64) -> u64 {
    let m = byte.wrapping_mul(0x0101_0101_0101_0101) & 0x8040_2010_0804_0201;
    ((m + 0x7F7F_7F7F_7F7F_7F7F) >> 7) & 0x0101_0101_0101_0101
}

/// Units per work item of the draw product (a multiple of `TABLES · TABLE_UNITS`).
const ITEM_UNITS: usize = 4096;

/// Draws the multipliers and multiplies them into `inf` (units × columns). With
/// `cluster`, the influence functions are first summed within clusters and one
/// multiplier is drawn per cluster (Callaway & Sant'Anna 2021, Remark 10).
///
/// The product `S · Ψ` with S ∈ {−1, 1}^(reps × rows) is computed without a dense
/// sign matrix ("method of four Russians"): the signs stay bits; for each run of 8
/// units the 256 signed partial sums of their rows of Ψ are tabulated, and each draw
/// adds the entry its 8 sign bits select. That is ~8× fewer additions than the
/// dense product, with the same multipliers (unit i of chunk c takes its bits from
/// the `c`-th stream, draw r from bit r mod 64 of its (r / 64)-th word; bit 1 is +1).
///
/// Influence functions are sparse: a cell's is zero outside its group and its
/// comparison units. Units are therefore taken block by block, a block being the units
/// of one value of `blocks` (each unit's group; ignored with `cluster`), and each block
/// only enters the columns that are not identically zero on it. The work items (a run
/// of a block's units × a tile of its columns) are fixed by the data, not by the
/// number of threads, and are summed in a fixed order: the draws depend on the seed only.
pub(crate) fn draw(inf: &[&[f64]], cluster: Option<&[usize]>, blocks: Option<&[usize]>, boot: Bootstrap) -> Draws {
    let n = inf.first().map_or(0, |c| c.len());
    let k = inf.len();
    let summed: Vec<Vec<f64>>;
    let (psi, rows): (Vec<&[f64]>, usize) = match cluster {
        Some(labels) => {
            let nc = labels.iter().copied().max().map_or(0, |m| m + 1);
            summed = inf
                .iter()
                .map(|col| {
                    let mut s = vec![0.0; nc];
                    for (i, &c) in labels.iter().enumerate() {
                        s[c] += col[i];
                    }
                    s
                })
                .collect();
            (summed.iter().map(Vec::as_slice).collect(), nc)
        }
        None => (inf.to_vec(), n),
    };
    let reps = boot.reps.max(1);
    let scale = (rows as f64).sqrt() / rows as f64;
    let words = reps.div_ceil(64);

    // The blocks of rows, each with the columns not identically zero on it.
    let block_rows: Vec<Vec<usize>> = match blocks {
        Some(labels) if cluster.is_none() && labels.len() == rows => {
            let nb = labels.iter().copied().max().map_or(0, |m| m + 1);
            let mut out = vec![Vec::new(); nb];
            for (i, &b) in labels.iter().enumerate() {
                out[b].push(i);
            }
            out.retain(|b| !b.is_empty());
            out
        }
        _ => vec![(0..rows).collect()],
    };
    let block_cols: Vec<Vec<usize>> = block_rows
        .par_iter()
        .map(|units| {
            (0..k)
                .filter(|&j| units.iter().any(|&i| psi[j][i] != 0.0 || psi[j][i].is_nan()))
                .collect()
        })
        .collect();

    // The sign bits: `bits[i * words + w]` for unit i, from its chunk's stream.
    let mut bits = vec![0u64; rows * words];
    bits.par_chunks_mut(CHUNK * words).enumerate().for_each(|(c, chunk)| {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(block_seed(boot.seed, c as u64));
        chunk.iter_mut().for_each(|w| *w = rng.next_u64());
    });
    // Per block, transposed to one byte per (run of 8 of its units, draw):
    // `index[b][t * reps + r]`, bit u set when unit u of run t has sign +1 in draw r.
    let index: Vec<Vec<u8>> = block_rows
        .par_iter()
        .map(|units| {
            let mut out = vec![0u8; units.len().div_ceil(TABLE_UNITS) * reps];
            for (run, out) in units.chunks(TABLE_UNITS).zip(out.chunks_mut(reps)) {
                for w in 0..words {
                    for byte in 0..8 {
                        let r0 = w * 64 + byte * 8;
                        if r0 >= reps {
                            break;
                        }
                        let mut packed = 0u64;
                        for (u, &i) in run.iter().enumerate() {
                            packed |= spread((bits[i * words + w] >> (byte * 8)) & 0xFF) << u;
                        }
                        let bytes = packed.to_le_bytes();
                        let m = (reps - r0).min(8);
                        out[r0..r0 + m].copy_from_slice(&bytes[..m]);
                    }
                }
            }
            out
        })
        .collect();
    drop(bits);

    // Work items: runs of ITEM_UNITS units of a block × tiles of TILE of its columns
    // (a multiple of the vector width, so that only the last tile has a scalar tail).
    let mut items: Vec<(usize, usize, usize, &[usize])> = Vec::new();
    for (b, (units, cols)) in block_rows.iter().zip(&block_cols).enumerate() {
        let tiles: Vec<&[usize]> = cols.chunks(TILE).collect();
        for start in (0..units.len()).step_by(ITEM_UNITS) {
            let end = (start + ITEM_UNITS).min(units.len());
            for &tile in &tiles {
                items.push((b, start, end, tile));
            }
        }
    }
    // The loops are plain element-wise additions; dispatching through pulp lets the
    // compiler vectorise them for the CPU at hand (AVX2 / AVX-512), which changes
    // no result (each element's additions happen in the same order).
    let arch = faer::traits::pulp::Arch::new();
    let parts: Vec<Vec<f64>> = items
        .par_iter()
        .map(|&(b, start, end, cols)| {
            arch.dispatch(TileOp {
                psi: &psi,
                cols,
                units: &block_rows[b][start..end],
                index: &index[b][start / TABLE_UNITS * reps..end.div_ceil(TABLE_UNITS) * reps],
                reps,
            })
        })
        .collect();
    let mut sums = vec![0.0; reps * k];
    for (&(_, _, _, cols), acc) in items.iter().zip(&parts) {
        let w = cols.len();
        for r in 0..reps {
            for (jj, &j) in cols.iter().enumerate() {
                sums[j * reps + r] += acc[r * w + jj];
            }
        }
    }
    let mat = Mat::<f64>::from_fn(reps, k, |r, j| scale * sums[j * reps + r]);
    Draws { mat, rows, n }
}

/// One work item of [`draw`], run by pulp inside a function compiled for the
/// CPU's vector extensions (`with_simd` and `tile_draws` are inlined into it).
struct TileOp<'a> {
    psi: &'a [&'a [f64]],
    /// The columns of the tile.
    cols: &'a [usize],
    /// The rows (units or clusters) of the item.
    units: &'a [usize],
    /// Their sign bytes, one run of 8 units after the other.
    index: &'a [u8],
    reps: usize,
}

impl faer::traits::pulp::WithSimd for TileOp<'_> {
    type Output = Vec<f64>;

    #[inline(always)]
    fn with_simd<S: faer::traits::pulp::Simd>(self, _simd: S) -> Vec<f64> {
        tile_draws(self)
    }
}

/// The draws (reps × w, row-major, unscaled) of the item's columns over its units.
#[inline(always)]
fn tile_draws(op: TileOp<'_>) -> Vec<f64> {
    let TileOp {
        psi,
        cols,
        units,
        index,
        reps,
    } = op;
    let w = cols.len();
    let blocks = units.len().div_ceil(TABLE_UNITS);
    let mut acc = vec![0.0f64; reps * w];
    let mut table = vec![0.0f64; TABLES * 256 * w];
    let mut rows8 = vec![0.0f64; TABLE_UNITS * w];
    let mut b = 0;
    while b < blocks {
        let nt = TABLES.min(blocks - b);
        for t in 0..nt {
            let tab = &mut table[t * 256 * w..(t + 1) * 256 * w];
            let first = (b + t) * TABLE_UNITS;
            let run = &units[first..(first + TABLE_UNITS).min(units.len())];
            // The run's rows of Ψ, row-major (`rows8[u * w + jj]`); zero past the end.
            rows8.iter_mut().for_each(|v| *v = 0.0);
            for (jj, &j) in cols.iter().enumerate() {
                let col = psi[j];
                for (u, &i) in run.iter().enumerate() {
                    rows8[u * w + jj] = col[i];
                }
            }
            // Entry 0: every sign −1.
            for (jj, v) in tab[..w].iter_mut().enumerate() {
                *v = -(0..run.len()).map(|u| rows8[u * w + jj]).sum::<f64>();
            }
            for e in 1..256usize {
                let low = e.trailing_zeros() as usize;
                let prev = e & (e - 1);
                let (head, tail) = tab.split_at_mut(e * w);
                let dst = &mut tail[..w];
                let src = &head[prev * w..prev * w + w];
                let row = &rows8[low * w..low * w + w];
                for ((d, &s), &x) in dst.iter_mut().zip(src).zip(row) {
                    *d = s + 2.0 * x;
                }
            }
        }
        let idx: Vec<&[u8]> = (0..nt).map(|t| &index[(b + t) * reps..(b + t + 1) * reps]).collect();
        if nt == TABLES {
            let (t0, rest) = table.split_at(256 * w);
            let (t1, rest) = rest.split_at(256 * w);
            let (t2, t3) = rest.split_at(256 * w);
            for (r, a) in acc.chunks_exact_mut(w).enumerate() {
                let e0 = usize::from(idx[0][r]) * w;
                let e1 = usize::from(idx[1][r]) * w;
                let e2 = usize::from(idx[2][r]) * w;
                let e3 = usize::from(idx[3][r]) * w;
                let rows4 = t0[e0..e0 + w]
                    .iter()
                    .zip(&t1[e1..e1 + w])
                    .zip(&t2[e2..e2 + w])
                    .zip(&t3[e3..e3 + w]);
                for (a, (((x0, x1), x2), x3)) in a.iter_mut().zip(rows4) {
                    *a += ((x0 + x1) + x2) + x3;
                }
            }
        } else {
            for (r, a) in acc.chunks_exact_mut(w).enumerate() {
                let mut s = [0.0f64; TILE];
                for (t, ix) in idx.iter().enumerate() {
                    let e = t * 256 * w + usize::from(ix[r]) * w;
                    for jj in 0..w {
                        s[jj] += table[e + jj];
                    }
                }
                for jj in 0..w {
                    a[jj] += s[jj];
                }
            }
        }
        b += nt;
    }
    acc
}

/// Standard errors (IQR / (q₇₅ − q₂₅) of the normal, did's `mboot`) and the sup-t
/// critical value over the columns of `draws` (reps × columns).
pub(crate) fn summarize(draws: MatRef<'_, f64>, rows: usize, n: usize, alpha: f64) -> BootResult {
    let reps = draws.nrows();
    let k = draws.ncols();
    let q_norm = {
        use statrs::distribution::{ContinuousCDF, Normal};
        let z = Normal::standard();
        z.inverse_cdf(0.75) - z.inverse_cdf(0.25)
    };
    let mut b_sigma = vec![f64::NAN; k];
    let mut usable = vec![false; k];
    for (j, sigma) in b_sigma.iter_mut().enumerate() {
        let mut v: Vec<f64> = (0..reps).map(|r| draws[(r, j)]).collect();
        let finite = v.iter().all(|x| x.is_finite());
        let nonzero = v.iter().any(|&x| x != 0.0);
        if !(finite && nonzero) {
            continue;
        }
        // The 75% quantile first: selecting it leaves the smaller values in front,
        // where the 25% quantile is then selected.
        let q75 = select_quantile(&mut v, 0.75);
        let rank75 = inverted_cdf_rank(v.len(), 0.75);
        let rank25 = inverted_cdf_rank(v.len(), 0.25);
        let q25 = if rank25 < rank75 {
            *v[..rank75].select_nth_unstable_by(rank25, f64::total_cmp).1
        } else {
            q75
        };
        let s = (q75 - q25) / q_norm;
        if s.is_finite() && s > 0.0 {
            *sigma = s;
            usable[j] = true;
        }
    }
    let mut sup_t = Vec::with_capacity(reps);
    for r in 0..reps {
        let mut best = f64::NEG_INFINITY;
        for j in 0..k {
            if usable[j] {
                best = best.max((draws[(r, j)] / b_sigma[j]).abs());
            }
        }
        if best.is_finite() {
            sup_t.push(best);
        }
    }
    let crit_val = select_quantile(&mut sup_t, 1.0 - alpha);
    let se = (0..k)
        .map(|j| usable[j].then(|| b_sigma[j] * (rows as f64).sqrt() / n as f64))
        .collect();
    BootResult { se, crit_val }
}

/// `draw` then `summarize`.
#[cfg(test)]
pub(crate) fn multiplier_bootstrap(
    inf: &[&[f64]],
    cluster: Option<&[usize]>,
    boot: Bootstrap,
    alpha: f64,
) -> BootResult {
    let d = draw(inf, cluster, None, boot);
    summarize(d.mat.as_ref(), d.rows, d.n, alpha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selected_quantiles_are_the_sorted_ones() {
        let data: Vec<f64> = (0..999).map(|i| ((i * 7919) % 1009) as f64 / 7.0 - 40.0).collect();
        let mut sorted = data.clone();
        sorted.sort_by(f64::total_cmp);
        for p in [0.0, 0.25, 0.5, 0.75, 0.95, 1.0] {
            assert_eq!(
                select_quantile(&mut data.clone(), p),
                quantile_inverted_cdf(&sorted, p),
                "{p}"
            );
        }
    }

    #[test]
    fn inverted_cdf_quantile_matches_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_inverted_cdf(&v, 0.25), 1.0);
        assert_eq!(quantile_inverted_cdf(&v, 0.26), 2.0);
        assert_eq!(quantile_inverted_cdf(&v, 0.75), 3.0);
        assert_eq!(quantile_inverted_cdf(&v, 1.0), 4.0);
    }

    #[test]
    fn bootstrap_se_is_close_to_the_analytic_one_and_reproducible() {
        let n = 2000;
        let data: Vec<f64> = (0..n).map(|i| ((i * 37 % 101) as f64 - 50.0) / 10.0).collect();
        let inf: &[&[f64]] = &[&data];
        let analytic = (data.iter().map(|x| x * x).sum::<f64>() / n as f64 / n as f64).sqrt();
        let boot = Bootstrap { reps: 999, seed: 7 };
        let a = multiplier_bootstrap(inf, None, boot, 0.05);
        let b = multiplier_bootstrap(inf, None, boot, 0.05);
        let se = a.se[0].unwrap_or(f64::NAN);
        assert!((se / analytic - 1.0).abs() < 0.1, "{se} vs {analytic}");
        assert_eq!(a.se, b.se);
    }
}
