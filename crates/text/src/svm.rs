//! A linear support vector machine on sparse rows: L2-regularised squared-hinge loss solved in the dual by coordinate
//! descent (Hsieh et al. 2008, "A dual coordinate descent method for large-scale linear SVM" — liblinear's solver 1,
//! which scikit-learn's `LinearSVC` runs), one class against the rest, with an intercept fitted as a feature of
//! constant value 1 (as liblinear does, so it is regularised too).

use crate::rng::Rng;

/// A sparse row: sorted `(column, value)` pairs.
pub type Row = [(u32, f32)];

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SvmOptions {
    /// The inverse of the regularisation strength.
    pub c: f64,
    /// Stop when the largest projected-gradient violation spread falls below this.
    pub tolerance: f64,
    /// At most this many passes over the rows per class.
    pub max_passes: usize,
}

impl Default for SvmOptions {
    fn default() -> Self {
        Self {
            c: 1.0,
            tolerance: 0.01,
            max_passes: 1000,
        }
    }
}

/// Weights of one binary problem: `columns` weights and the intercept.
#[derive(Debug, Clone)]
pub struct Binary {
    pub weights: Vec<f64>,
    pub intercept: f64,
}

/// Fits `+1` for rows where `positive[i]` against `-1` for the others. `rng` orders the coordinates of each pass.
pub fn fit_binary(rows: &[&Row], positive: &[bool], columns: usize, options: SvmOptions, rng: &mut Rng) -> Binary {
    let n = rows.len();
    let diagonal = 0.5 / options.c;
    let squared_norms: Vec<f64> = rows
        .iter()
        .map(|row| row.iter().map(|&(_, v)| f64::from(v) * f64::from(v)).sum::<f64>() + 1.0)
        .collect();
    let mut alpha = vec![0.0f64; n];
    let mut weights = vec![0.0f64; columns];
    let mut intercept = 0.0f64;
    let mut order: Vec<usize> = (0..n).collect();
    for _ in 0..options.max_passes {
        rng.shuffle(&mut order);
        let (mut largest, mut smallest) = (f64::NEG_INFINITY, f64::INFINITY);
        for &i in &order {
            let y = if positive[i] { 1.0 } else { -1.0 };
            let margin = rows[i]
                .iter()
                .map(|&(c, v)| weights[c as usize] * f64::from(v))
                .sum::<f64>()
                + intercept;
            let gradient = y * margin - 1.0 + diagonal * alpha[i];
            let projected = if alpha[i] == 0.0 { gradient.min(0.0) } else { gradient };
            largest = largest.max(projected);
            smallest = smallest.min(projected);
            if projected.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - gradient / (squared_norms[i] + diagonal)).max(0.0);
                let step = (alpha[i] - old) * y;
                for &(c, v) in rows[i] {
                    weights[c as usize] += step * f64::from(v);
                }
                intercept += step;
            }
        }
        if largest - smallest <= options.tolerance {
            break;
        }
    }
    Binary { weights, intercept }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_points_are_separated() {
        let rows: Vec<Vec<(u32, f32)>> = vec![vec![(0, 1.0)], vec![(0, 0.9), (1, 0.1)], vec![(1, 1.0)], vec![(1, 0.8)]];
        let refs: Vec<&Row> = rows.iter().map(Vec::as_slice).collect();
        let positive = [true, true, false, false];
        let model = fit_binary(&refs, &positive, 2, SvmOptions::default(), &mut Rng::new(0));
        for (row, &is_positive) in refs.iter().zip(&positive) {
            let score: f64 = row
                .iter()
                .map(|&(c, v)| model.weights[c as usize] * f64::from(v))
                .sum::<f64>()
                + model.intercept;
            assert_eq!(score > 0.0, is_positive, "row {row:?} scored {score}");
        }
    }
}
