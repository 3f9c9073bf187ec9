//! Small dense linear algebra for k×k systems (k = covariates + 1, a handful).
//!
//! Matrices are row-major `Vec<f64>` of length k·k. The big products (bootstrap)
//! use faer; these tiny solves do not need it.

/// Inverse by Gauss–Jordan elimination with partial pivoting; `None` if singular.
pub(crate) fn inverse(a: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; k * k];
    for i in 0..k {
        inv[i * k + i] = 1.0;
    }
    for col in 0..k {
        let mut pivot = col;
        for r in col + 1..k {
            if m[r * k + col].abs() > m[pivot * k + col].abs() {
                pivot = r;
            }
        }
        if m[pivot * k + col] == 0.0 || !m[pivot * k + col].is_finite() {
            return None;
        }
        if pivot != col {
            for c in 0..k {
                m.swap(pivot * k + c, col * k + c);
                inv.swap(pivot * k + c, col * k + c);
            }
        }
        let d = m[col * k + col];
        for c in 0..k {
            m[col * k + c] /= d;
            inv[col * k + c] /= d;
        }
        for r in 0..k {
            if r != col {
                let f = m[r * k + col];
                if f != 0.0 {
                    for c in 0..k {
                        m[r * k + c] -= f * m[col * k + c];
                        inv[r * k + c] -= f * inv[col * k + c];
                    }
                }
            }
        }
    }
    Some(inv)
}

/// 1-norm (maximum absolute column sum).
fn norm1(a: &[f64], k: usize) -> f64 {
    (0..k)
        .map(|c| (0..k).map(|r| a[r * k + c].abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

/// Reciprocal 1-norm condition number, as `1 / numpy.linalg.cond(a, 1)`.
pub(crate) fn rcond1(a: &[f64], k: usize) -> f64 {
    match inverse(a, k) {
        Some(inv) => {
            let c = norm1(a, k) * norm1(&inv, k);
            if c.is_finite() { 1.0 / c } else { 0.0 }
        }
        None => 0.0,
    }
}

/// `a · v` for a k×k row-major matrix.
pub(crate) fn mat_vec(a: &[f64], v: &[f64], k: usize) -> Vec<f64> {
    (0..k).map(|r| (0..k).map(|c| a[r * k + c] * v[c]).sum()).collect()
}

/// The first covariate column that is (numerically) a linear combination of the
/// intercept and the columns before it, by a pivot-free Cholesky of the centred Gram.
pub(crate) fn first_dependent_column(columns: &[Vec<f64>]) -> Option<usize> {
    let k = columns.len();
    if k == 0 {
        return None;
    }
    let n = columns[0].len() as f64;
    let centred: Vec<Vec<f64>> = columns
        .iter()
        .map(|c| {
            let mean = c.iter().sum::<f64>() / n;
            c.iter().map(|v| v - mean).collect()
        })
        .collect();
    let mut gram = vec![0.0; k * k];
    for a in 0..k {
        for b in 0..=a {
            let s: f64 = centred[a].iter().zip(&centred[b]).map(|(x, y)| x * y).sum();
            gram[a * k + b] = s;
            gram[b * k + a] = s;
        }
    }
    let mut l = vec![0.0; k * k];
    for j in 0..k {
        let mut d = gram[j * k + j];
        for p in 0..j {
            d -= l[j * k + p] * l[j * k + p];
        }
        if d <= 1e-10 * gram[j * k + j] || d <= 0.0 {
            return Some(j);
        }
        let djj = d.sqrt();
        l[j * k + j] = djj;
        for i in j + 1..k {
            let mut s = gram[i * k + j];
            for p in 0..j {
                s -= l[i * k + p] * l[j * k + p];
            }
            l[i * k + j] = s / djj;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_a_2x2() {
        let inv = inverse(&[4.0, 7.0, 2.0, 6.0], 2).unwrap_or_default();
        let expected = [0.6, -0.7, -0.2, 0.4];
        for (a, b) in inv.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12);
        }
        assert!(inverse(&[1.0, 2.0, 2.0, 4.0], 2).is_none());
    }

    #[test]
    fn collinear_columns_are_found() {
        let a = vec![1.0, 2.0, 3.0, 5.0];
        let b = vec![2.0, 1.0, 0.0, 7.0];
        let c: Vec<f64> = a.iter().zip(&b).map(|(x, y)| 2.0 * x - y + 3.0).collect();
        assert_eq!(first_dependent_column(&[a.clone(), b.clone()]), None);
        assert_eq!(first_dependent_column(&[a, b, c]), Some(2));
    }
}
