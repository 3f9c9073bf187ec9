//! Multiplier bootstrap with Rademacher weights over a matrix of influence
//! functions (`did::mboot`): standard errors from the interquartile range of the
//! draws and the sup-t critical value for uniform confidence bands.
//!
//! The draws are one matrix product `S · Ψ` (signs × influence functions), computed
//! by faer over chunks of units (each product parallel). Aggregations are linear in the
//! cell influence functions plus a function of each unit's group, so their draws
//! are linear combinations of the draws of the cells and of group indicators: the
//! product is done once per evaluation. Each block's signs come from
//! its own xoshiro256++ stream seeded from (seed, block), so results depend on the
//! seed only, not on the number of threads, and every call with the same seed and
//! the same units reuses the same multipliers (aggregations and cells share draws).

use faer::{Accum, Mat, MatRef, Par};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};

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
pub(crate) fn quantile_inverted_cdf(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let k = (p * n as f64).ceil() as usize;
    sorted[k.clamp(1, n) - 1]
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

/// Draws the multipliers and multiplies them into `inf` (units × columns). With
/// `cluster`, the influence functions are first summed within clusters and one
/// multiplier is drawn per cluster (Callaway & Sant'Anna 2021, Remark 10).
pub(crate) fn draw(inf: MatRef<'_, f64>, cluster: Option<&[usize]>, boot: Bootstrap) -> Draws {
    let n = inf.nrows();
    let k = inf.ncols();
    let summed;
    let (psi, rows) = match cluster {
        Some(labels) => {
            let nc = labels.iter().copied().max().map_or(0, |m| m + 1);
            let mut s = Mat::<f64>::zeros(nc, k);
            for j in 0..k {
                let col = inf.col(j);
                for (i, &c) in labels.iter().enumerate() {
                    s[(c, j)] += col[i];
                }
            }
            summed = s;
            (summed.as_ref(), nc)
        }
        None => (inf, n),
    };
    let reps = boot.reps.max(1);
    let scale = (rows as f64).sqrt() / rows as f64;
    // Units in chunks of CHUNK: each chunk's signs (reps × chunk) come from its own
    // stream, and the chunk's product is added into the draws in a fixed order, so
    // the result depends on the seed only. faer parallelises each product.
    let words = reps.div_ceil(64);
    let mut mat = Mat::<f64>::zeros(reps, k);
    let mut signs = Mat::<f64>::zeros(reps, CHUNK.min(rows));
    let mut start = 0;
    while start < rows {
        let size = CHUNK.min(rows - start);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(block_seed(boot.seed, (start / CHUNK) as u64));
        for i in 0..size {
            let col = signs.col_mut(i);
            let col = col.try_as_col_major_mut();
            let Some(col) = col else { continue };
            let col = col.as_slice_mut();
            for w in 0..words {
                let bits = rng.next_u64();
                let lo = w * 64;
                let hi = (lo + 64).min(reps);
                for (d, v) in col[lo..hi].iter_mut().enumerate() {
                    *v = if (bits >> d) & 1 == 1 { 1.0 } else { -1.0 };
                }
            }
        }
        faer::linalg::matmul::matmul(
            mat.as_mut(),
            Accum::Add,
            signs.as_ref().subcols(0, size),
            psi.subrows(start, size),
            scale,
            Par::rayon(0),
        );
        start += size;
    }
    Draws { mat, rows, n }
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
        v.sort_by(f64::total_cmp);
        let s = (quantile_inverted_cdf(&v, 0.75) - quantile_inverted_cdf(&v, 0.25)) / q_norm;
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
    sup_t.sort_by(f64::total_cmp);
    let crit_val = quantile_inverted_cdf(&sup_t, 1.0 - alpha);
    let se = (0..k)
        .map(|j| usable[j].then(|| b_sigma[j] * (rows as f64).sqrt() / n as f64))
        .collect();
    BootResult { se, crit_val }
}

/// `draw` then `summarize`.
#[cfg(test)]
pub(crate) fn multiplier_bootstrap(
    inf: MatRef<'_, f64>,
    cluster: Option<&[usize]>,
    boot: Bootstrap,
    alpha: f64,
) -> BootResult {
    let d = draw(inf, cluster, boot);
    summarize(d.mat.as_ref(), d.rows, d.n, alpha)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let inf = MatRef::from_column_major_slice(&data, n, 1);
        let analytic = (data.iter().map(|x| x * x).sum::<f64>() / n as f64 / n as f64).sqrt();
        let boot = Bootstrap { reps: 999, seed: 7 };
        let a = multiplier_bootstrap(inf, None, boot, 0.05);
        let b = multiplier_bootstrap(inf, None, boot, 0.05);
        let se = a.se[0].unwrap_or(f64::NAN);
        assert!((se / analytic - 1.0).abs() < 0.1, "{se} vs {analytic}");
        assert_eq!(a.se, b.se);
    }
}
