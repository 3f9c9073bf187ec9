//! Spikes in daily counts of cases (per unit × category): a count-data surveillance test in the manner of EARS and
//! Farrington (public-health outbreak detection), because Gaussian methods fail below one case a day.
//!
//! For each day the expected count is the series' recent rate — the days `gap_days + 1 ..= gap_days + window_days`
//! before it, leaving out days already flagged, shrunk towards the series' long-run rate with the weight of
//! `prior_days` days — times the factor of the day's kind (weekday, public holiday, make-up working day), estimated
//! for the whole pool (one category across units) because a single series is too sparse to show its own week. The
//! count is then tested against a negative binomial with that mean whose extra variance adds the pool's
//! over-dispersion (moment estimate, spikes trimmed) and the uncertainty of the baseline rate (a Gamma posterior,
//! so a baseline of few days or few cases asks for more). A day is a spike when the upper tail probability is below
//! `alpha` and the count is at least `min_count`.

/// What kind of day a day is, for its expected share of the week's cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// An ordinary day, Monday = 0 … Sunday = 6.
    Weekday(u8),
    /// A public holiday (a day off on Monday–Friday).
    Holiday,
    /// A working day on a weekend (调休).
    MakeUpWorkday,
}

impl DayKind {
    fn index(self) -> usize {
        match self {
            DayKind::Weekday(d) => usize::from(d.min(6)),
            DayKind::Holiday => 7,
            DayKind::MakeUpWorkday => 8,
        }
    }
}

const KINDS: usize = 9;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpikeOptions {
    pub window_days: usize,
    pub gap_days: usize,
    pub alpha: f64,
    pub min_count: u32,
    pub prior_days: f64,
}

impl Default for SpikeOptions {
    fn default() -> Self {
        Self {
            window_days: 56,
            gap_days: 2,
            alpha: 1e-4,
            min_count: 3,
            prior_days: 7.0,
        }
    }
}

/// A day whose count is improbably high.
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    /// Index of the series.
    pub series: usize,
    /// Index of the day.
    pub day: usize,
    pub count: u32,
    pub expected: f64,
    pub p_value: f64,
}

/// `P(X ≥ x)` for a negative binomial of mean `mean` and size `size` (Poisson when `size` is infinite).
pub fn upper_tail(x: u32, mean: f64, size: f64) -> f64 {
    if x == 0 {
        return 1.0;
    }
    if mean <= 0.0 {
        return 0.0;
    }
    let (mut term, ratio): (f64, f64) = if size.is_finite() {
        ((size / (size + mean)).powf(size), mean / (size + mean))
    } else {
        ((-mean).exp(), 0.0)
    };
    let mut below = 0.0;
    for j in 0..x {
        below += term;
        let j = f64::from(j);
        term *= if size.is_finite() {
            (j + size) / (j + 1.0) * ratio
        } else {
            mean / (j + 1.0)
        };
    }
    (1.0 - below).max(0.0)
}

/// The spikes of every series. `pool_of[s]` names the pool of series `s` (its category); `day_kind[d]` is the kind of
/// day `d`; every series has one count per day.
pub fn detect(series: &[&[u32]], pool_of: &[usize], day_kind: &[DayKind], options: SpikeOptions) -> Vec<Spike> {
    let pools = pool_of.iter().copied().max().map_or(0, |m| m + 1);
    let factors = day_factors(series, pool_of, day_kind, pools);
    let dispersion = pool_dispersion(series, pool_of, day_kind, &factors, pools, options);
    let mut spikes = Vec::new();
    for (s, counts) in series.iter().enumerate() {
        let pool = pool_of[s];
        scan(
            counts,
            &factors[pool],
            dispersion[pool],
            day_kind,
            options,
            |day, count, expected, p_value| {
                spikes.push(Spike {
                    series: s,
                    day,
                    count,
                    expected,
                    p_value,
                })
            },
        );
    }
    spikes
}

/// The expected count and tail probability of every day of one series, calling `flag` for each spike; flagged days
/// leave the baseline of the days after them.
fn scan(
    counts: &[u32],
    factors: &[f64; KINDS],
    dispersion: f64,
    day_kind: &[DayKind],
    options: SpikeOptions,
    mut flag: impl FnMut(usize, u32, f64, f64),
) {
    let factor = |d: usize| factors[day_kind[d].index()];
    let mut flagged = vec![false; counts.len()];
    // Long-run sums of counts and factors of all unflagged days up to (excluding) a day.
    let (mut history_count, mut history_factor) = (0.0, 0.0);
    let (mut window_count, mut window_factor) = (0.0, 0.0);
    let lag = options.gap_days + 1;
    for t in 0..counts.len() {
        // Day t - lag enters the window and the history; day t - lag - window leaves the window.
        if t >= lag {
            let d = t - lag;
            if !flagged[d] {
                window_count += f64::from(counts[d]);
                window_factor += factor(d);
                history_count += f64::from(counts[d]);
                history_factor += factor(d);
            }
            if t >= lag + options.window_days {
                let old = t - lag - options.window_days;
                if !flagged[old] {
                    window_count -= f64::from(counts[old]);
                    window_factor -= factor(old);
                }
            }
        }
        if history_factor <= 0.0 || window_factor < 7.0 * factors.iter().take(7).sum::<f64>() / 7.0 {
            continue; // Less than a week of baseline: no test.
        }
        let long_run_rate = history_count / history_factor;
        let shape = window_count + options.prior_days * long_run_rate;
        let exposure = window_factor + options.prior_days;
        let expected = factor(t) * shape / exposure;
        let count = counts[t];
        if count < options.min_count {
            continue;
        }
        // Var = μ + μ²(φ + 1/shape): the pool's over-dispersion plus the baseline rate's own uncertainty.
        let extra = dispersion + if shape > 0.0 { 1.0 / shape } else { f64::INFINITY };
        let size = if extra > 0.0 { 1.0 / extra } else { f64::INFINITY };
        let p_value = if size == 0.0 {
            1.0
        } else {
            upper_tail(count, expected.max(1e-9), size)
        };
        if p_value < options.alpha {
            flagged[t] = true;
            flag(t, count, expected, p_value);
        }
    }
}

/// Per pool, the mean count on each kind of day relative to the pool's mean (1 where a kind never occurs).
fn day_factors(series: &[&[u32]], pool_of: &[usize], day_kind: &[DayKind], pools: usize) -> Vec<[f64; KINDS]> {
    let mut sums = vec![[0.0f64; KINDS]; pools];
    let mut days = [0.0f64; KINDS];
    for kind in day_kind {
        days[kind.index()] += 1.0;
    }
    for (counts, &pool) in series.iter().zip(pool_of) {
        for (d, &c) in counts.iter().enumerate() {
            sums[pool][day_kind[d].index()] += f64::from(c);
        }
    }
    sums.iter()
        .map(|sum| {
            let total_days: f64 = days.iter().sum();
            let mean = sum.iter().sum::<f64>() / total_days.max(1.0);
            let mut factors = [1.0; KINDS];
            for k in 0..KINDS {
                if days[k] > 0.0 && mean > 0.0 && sum[k] > 0.0 {
                    factors[k] = sum[k] / days[k] / mean;
                }
            }
            factors
        })
        .collect()
}

/// Per pool, the over-dispersion φ of counts around their expected values (Var = μ + φμ²), by moments, leaving out
/// days that a Poisson would already call a spike so the spikes do not inflate it.
fn pool_dispersion(
    series: &[&[u32]],
    pool_of: &[usize],
    day_kind: &[DayKind],
    factors: &[[f64; KINDS]],
    pools: usize,
    options: SpikeOptions,
) -> Vec<f64> {
    let (mut numerator, mut denominator) = (vec![0.0; pools], vec![0.0; pools]);
    let probe = SpikeOptions {
        alpha: 1e-3,
        min_count: 0,
        ..options
    };
    for (counts, &pool) in series.iter().zip(pool_of) {
        let mut outliers = vec![false; counts.len()];
        scan(counts, &factors[pool], 0.0, day_kind, probe, |day, _, _, _| {
            outliers[day] = true
        });
        // A plain moving mean of the same window for the moments (no shrinkage needed here).
        let lag = options.gap_days + 1;
        for t in (lag + options.window_days)..counts.len() {
            if outliers[t] {
                continue;
            }
            let window = t - lag - options.window_days + 1..=t - lag;
            let (mut count, mut factor) = (0.0, 0.0);
            for d in window {
                count += f64::from(counts[d]);
                factor += factors[pool][day_kind[d].index()];
            }
            let mean = factors[pool][day_kind[t].index()] * count / factor.max(1e-9);
            let c = f64::from(counts[t]);
            numerator[pool] += (c - mean).powi(2) - c;
            denominator[pool] += mean * mean;
        }
    }
    numerator
        .iter()
        .zip(&denominator)
        .map(|(n, d)| if *d > 0.0 { (n / d).max(0.0) } else { 0.0 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn poisson(rng: &mut Rng, mean: f64) -> u32 {
        // Knuth's method: fine for the small means of these tests.
        let limit = (-mean).exp();
        let (mut k, mut p) = (0, 1.0);
        loop {
            p *= (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }

    #[test]
    fn tails_match_closed_forms() {
        // Poisson(1): P(X ≥ 2) = 1 − 2/e.
        assert!((upper_tail(2, 1.0, f64::INFINITY) - (1.0 - 2.0 / std::f64::consts::E)).abs() < 1e-12);
        // Geometric (size 1, mean 1, p = 1/2): P(X ≥ 3) = 1/8.
        assert!((upper_tail(3, 1.0, 1.0) - 0.125).abs() < 1e-12);
    }

    #[test]
    fn a_planted_spike_is_found_and_a_quiet_series_is_not_flagged() {
        let days = 400;
        let day_kind: Vec<DayKind> = (0..days).map(|d| DayKind::Weekday((d % 7) as u8)).collect();
        let mut rng = Rng::new(3);
        let mut quiet: Vec<u32> = (0..days).map(|_| poisson(&mut rng, 0.5)).collect();
        let mut spiky = quiet.clone();
        spiky[300] += 8;
        quiet[300] = quiet[300].min(1);
        let spikes = detect(&[&quiet, &spiky], &[0, 0], &day_kind, SpikeOptions::default());
        assert_eq!(
            spikes.iter().map(|s| (s.series, s.day)).collect::<Vec<_>>(),
            vec![(1, 300)]
        );
    }

    #[test]
    fn a_busy_weekday_is_not_a_spike() {
        // Mondays carry four times the cases of other days: a Monday of 6 after days of 1–2 is expected.
        let days = 400;
        let day_kind: Vec<DayKind> = (0..days).map(|d| DayKind::Weekday((d % 7) as u8)).collect();
        let mut rng = Rng::new(5);
        let counts: Vec<Vec<u32>> = (0..20)
            .map(|_| {
                (0..days)
                    .map(|d| poisson(&mut rng, if d % 7 == 0 { 4.0 } else { 1.0 }))
                    .collect()
            })
            .collect();
        let refs: Vec<&[u32]> = counts.iter().map(Vec::as_slice).collect();
        let spikes = detect(&refs, &[0; 20], &day_kind, SpikeOptions::default());
        assert!(
            spikes.len() <= 1,
            "{} false spikes in 20 quiet series: {spikes:?}",
            spikes.len()
        );
    }
}
