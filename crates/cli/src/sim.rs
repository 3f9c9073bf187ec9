//! `grassroots sim calibrate`: simulated regions with pilots of known effect, evaluated as real pilots are, and how
//! often the evaluation gets them right (interval coverage, verdicts where the design has power, site-selection
//! warnings).

use app::calibrate::{CalibrationConfig, CalibrationReport, calibrate};
use clap::Subcommand;

use crate::progress::bar;

#[derive(Subcommand)]
pub enum SimCommand {
    /// Run N simulated regions with pilots of known true effect and report how well pilot evaluation recovers them.
    Calibrate {
        /// Replications (simulated regions).
        #[arg(long, default_value_t = 20)]
        reps: usize,
        /// Seed of the first replication (same seed, same report).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Fraction of Huzhou's real case rate to simulate (1 = the real volume; below 1 is faster but noisier).
        #[arg(long, default_value_t = 1.0)]
        rate_scale: f64,
        /// Print the report, with every replication, as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: &SimCommand) -> anyhow::Result<()> {
    match cmd {
        SimCommand::Calibrate {
            reps,
            seed,
            rate_scale,
            json,
        } => {
            anyhow::ensure!(*reps > 0, "--reps {reps}: at least one replication");
            anyhow::ensure!(
                rate_scale.is_finite() && *rate_scale > 0.0 && *rate_scale <= 2.0,
                "--rate-scale {rate_scale}: expected a number above 0 and at most 2"
            );
            let config = CalibrationConfig {
                reps: *reps,
                seed: *seed,
                rate_scale: *rate_scale,
                ..CalibrationConfig::default()
            };
            let progress = bar(*reps as u64, "replications");
            if *json {
                progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let report = calibrate(&config, &|done, _| progress.set_position(done as u64))?;
            progress.finish_and_clear();
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
        }
    }
    Ok(())
}

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", 100.0 * x)
    } else {
        "-".into()
    }
}

fn print_report(r: &CalibrationReport) {
    println!(
        "{} replications (seed {}): Huzhou's townships, pilots on disjoint townships in two monthly cohorts",
        r.reps, r.seed
    );
    println!(
        "{:<42} {:<22} {:>10} {:>10} {:>9} {:>7} {:>9} {:>8}",
        "pilot (true effect)", "primary outcome", "truth", "estimate", "coverage", "powered", "verdict ok", "flagged"
    );
    for d in &r.designs {
        println!(
            "{:<42} {:<22} {:>10.4} {:>10.4} {:>9} {:>7} {:>9} {:>8}",
            d.design.name,
            d.design.primary.as_str(),
            d.mean_truth,
            d.mean_estimate,
            pct(d.coverage),
            d.powered,
            d.verdict_accuracy.map_or("-".into(), pct),
            pct(d.flagged)
        );
        println!("  {} (expected verdict: {})", d.design.effect_text, d.design.expected);
    }
    println!("95% CI coverage of the true ATT, every pilot: {}", pct(r.coverage));
    println!(
        "right verdicts where power ≥ 80% (non-null pilots): {} of {} ({})",
        r.verdict_accuracy_powered
            .map_or(0, |a| (a * r.powered as f64).round() as usize),
        r.powered,
        r.verdict_accuracy_powered.map_or("-".into(), pct)
    );
    println!(
        "site-selection warning: {} of pilots sited in the richest townships, {} of randomly sited ones",
        pct(r.flagged_biased),
        pct(r.flagged_random)
    );
}
