//! The robustness plot of a pattern (`sim patterns --robustness`): its Latin-hypercube points on
//! the two parameters that best separate the points where its direction fails from those where it
//! holds, green where it holds, orange where it fails, with the best threshold as a dashed line.

use plotters::prelude::*;

use super::figure::{self, Area, DrawResult, Figure, Header, Key, Mark};
use super::style::{self, DARK, LABEL, LIGHT_GREY, TICK, Ticks};

pub const HOLDS: RGBColor = RGBColor(0x00, 0x9E, 0x73);
pub const FAILS: RGBColor = RGBColor(0xD5, 0x5E, 0x00);

/// Pass/fail points of one pattern on two parameters.
pub struct PassFail {
    pub title: String,
    pub subtitle: String,
    /// Axis names and ranges (the parameters' sampled ranges).
    pub x: (String, f64, f64),
    pub y: (String, f64, f64),
    /// (x, y, holds) per point.
    pub points: Vec<(f64, f64, bool)>,
    /// The best threshold: on the x axis (true) or the y axis, and its value.
    pub threshold: Option<(bool, f64)>,
}

const SIZE: (u32, u32) = (760, 560);

impl PassFail {
    fn keys(&self) -> Vec<Key> {
        let mut k = vec![Key::new("direction holds", HOLDS, Mark::Dot), Key::new("direction fails", FAILS, Mark::Dot)];
        if self.threshold.is_some() {
            k.push(Key::new("best single-parameter threshold", DARK, Mark::Dashed));
        }
        k
    }
}

/// A range padded by 4% on each side (or by 0.5 when empty).
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo { (lo - 0.04 * (hi - lo), hi + 0.04 * (hi - lo)) } else { (lo - 0.5, hi + 0.5) }
}

impl Figure for PassFail {
    fn size(&self) -> (u32, u32) {
        let keys = self.keys();
        // Wide enough for the subtitle (the failing region in words) on one line.
        let w = SIZE.0.max(figure::text_width(&self.subtitle, style::NOTE) + 40);
        (w, Header { title: &self.title, subtitle: Some(&self.subtitle), keys: &keys }.height(w) + SIZE.1)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        let keys = self.keys();
        let body = Header { title: &self.title, subtitle: Some(&self.subtitle), keys: &keys }.draw(root)?;
        let (x0, x1) = padded(self.x.1, self.x.2);
        let (y0, y1) = padded(self.y.1, self.y.2);
        let (xt, yt) = (Ticks::for_range(x0, x1), Ticks::for_range(y0, y1));
        let mut chart = ChartBuilder::on(&body)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(52)
            .y_label_area_size(figure::y_label_room(&yt, y0, y1) + 10)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(self.x.0.as_str())
            .y_desc(self.y.0.as_str())
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|v| xt.format(*v))
            .y_label_formatter(&|v| yt.format(*v))
            .label_style(style::text(TICK))
            .axis_desc_style(style::text(LABEL))
            .bold_line_style(LIGHT_GREY)
            .light_line_style(TRANSPARENT)
            .draw()?;
        if let Some((on_x, t)) = self.threshold {
            let line = if on_x { vec![(t, y0), (t, y1)] } else { vec![(x0, t), (x1, t)] };
            chart.draw_series(DashedLineSeries::new(line, 8, 6, DARK.stroke_width(2)))?;
        }
        // Failing points last, so they are not hidden under passing ones.
        for want in [true, false] {
            let c = if want { HOLDS } else { FAILS };
            chart.draw_series(self.points.iter().filter(|p| p.2 == want).map(|p| Circle::new((p.0, p.1), 6, c.filled())))?;
        }
        Ok(())
    }
}
