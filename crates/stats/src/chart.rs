//! The event-study chart: the average effect by length of exposure with pointwise intervals and the uniform band of
//! the dynamic aggregation, drawn as SVG by plotters. The numbers come from a [`crate::Report`]; the words are the
//! caller's, so a page draws it in its own language.

use plotters::prelude::*;
use serde::Serialize;

/// One event time of the dynamic aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EventStudyPoint {
    /// Periods since treatment (negative: before).
    pub event_time: i64,
    pub att: f64,
    pub se: f64,
}

/// What the chart shows: the estimated points and the two critical values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventStudy {
    pub points: Vec<EventStudyPoint>,
    /// The normal quantile of the pointwise intervals.
    pub pointwise_c: f64,
    /// The bootstrap critical value of the uniform band.
    pub uniform_c: f64,
    pub alpha: f64,
}

/// The words of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartLabels {
    pub title: String,
    pub x_axis: String,
    pub y_axis: String,
    /// The legend of the pointwise intervals (the confidence level is appended).
    pub pointwise: String,
    /// The legend of the uniform band (its critical value is appended).
    pub uniform: String,
}

impl ChartLabels {
    pub fn english() -> ChartLabels {
        ChartLabels {
            title: "Event study: average effect by length of exposure".into(),
            x_axis: "event time (periods since treatment)".into(),
            y_axis: "effect".into(),
            pointwise: "pointwise CI".into(),
            uniform: "uniform band".into(),
        }
    }
}

const WIDTH: u32 = 720;
const HEIGHT: u32 = 420;
const AFTER: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const BEFORE: RGBColor = RGBColor(0xb0, 0x3a, 0x2e);

impl EventStudy {
    /// The chart as an SVG document. A study without points gives a chart with its title and nothing else.
    pub fn svg(&self, labels: &ChartLabels) -> String {
        let mut out = String::new();
        // Plotters fails only when its backend does; a String backend does not, so an error leaves what was drawn.
        let _ = self.draw(&mut out, labels);
        out
    }

    fn draw(&self, out: &mut String, labels: &ChartLabels) -> Result<(), Box<dyn std::error::Error + '_>> {
        let root = SVGBackend::with_string(out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(&labels.title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64);
        let Some((first, last)) = self.points.first().zip(self.points.last()) else {
            // The title alone, on empty axes.
            builder.build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
            root.present()?;
            return Ok(());
        };
        let (cp, cu) = (self.pointwise_c, self.uniform_c);
        let reach = cp.max(cu);
        let lo = self.points.iter().map(|p| p.att - reach * p.se).fold(0.0, f64::min);
        let hi = self.points.iter().map(|p| p.att + reach * p.se).fold(0.0, f64::max);
        let pad = (hi - lo).max(1e-12) * 0.08;
        let (x_min, x_max) = (first.event_time as f64 - 0.5, last.event_time as f64 + 0.5);
        let mut chart = builder.build_cartesian_2d(x_min..x_max, (lo - pad)..(hi + pad))?;
        let ticks = (last.event_time - first.event_time + 1).clamp(2, 25) as usize;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(ticks)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.3}"))
            .x_desc(labels.x_axis.as_str())
            .y_desc(labels.y_axis.as_str())
            .draw()?;
        chart.draw_series(LineSeries::new(
            [(x_min, 0.0), (x_max, 0.0)],
            ShapeStyle::from(&RGBColor(0x88, 0x88, 0x88)).stroke_width(1),
        ))?;
        let color = |p: &EventStudyPoint| if p.event_time >= 0 { AFTER } else { BEFORE };
        chart
            .draw_series(self.points.iter().map(|p| {
                let e = p.event_time as f64;
                Rectangle::new(
                    [(e - 0.3, p.att - cu * p.se), (e + 0.3, p.att + cu * p.se)],
                    color(p).mix(0.18).filled(),
                )
            }))?
            .label(format!("{} (c = {cu:.3})", labels.uniform))
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], AFTER.mix(0.18).filled()));
        chart
            .draw_series(self.points.iter().map(|p| {
                ErrorBar::new_vertical(
                    p.event_time as f64,
                    p.att - cp * p.se,
                    p.att,
                    p.att + cp * p.se,
                    // The point itself is the bar's filled middle.
                    color(p).filled().stroke_width(2),
                    8,
                )
            }))?
            .label(format!("{} {:.0}%", labels.pointwise, 100.0 * (1.0 - self.alpha)))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], AFTER.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn study(n: i64) -> EventStudy {
        EventStudy {
            points: (-2..n - 2)
                .map(|e| EventStudyPoint {
                    event_time: e,
                    att: 0.1 * e as f64,
                    se: 0.05,
                })
                .collect(),
            pointwise_c: 1.96,
            uniform_c: 2.6,
            alpha: 0.05,
        }
    }

    #[test]
    fn one_point_per_event_time_with_the_callers_words() {
        let labels = ChartLabels {
            title: "事件研究".into(),
            ..ChartLabels::english()
        };
        let svg = study(6).svg(&labels);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 6, "{svg}");
        assert!(
            svg.contains("事件研究") && svg.contains("uniform band (c = 2.600)") && svg.contains("pointwise CI 95%")
        );
    }

    #[test]
    fn an_empty_study_is_a_titled_empty_chart() {
        let svg = study(0).svg(&ChartLabels::english());
        assert!(svg.contains("Event study") && !svg.contains("<circle"), "{svg}");
    }
}
