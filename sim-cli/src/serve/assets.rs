//! The pages and what they load, embedded in the binary: no CDN, no npm at build or run time.
//! uPlot (MIT, vendored under assets/uplot with its licence) draws the charts.

pub const FACILITATOR_HTML: &str = include_str!("pages/facilitator.html");
pub const PARTICIPANT_HTML: &str = include_str!("pages/participant.html");

/// An asset by its name under /assets/: its content type and body.
pub fn get(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "uPlot.iife.min.js" => ("text/javascript; charset=utf-8", include_str!("../../assets/uplot/uPlot.iife.min.js")),
        "uPlot.min.css" => ("text/css; charset=utf-8", include_str!("../../assets/uplot/uPlot.min.css")),
        "uPlot-LICENSE.txt" => ("text/plain; charset=utf-8", include_str!("../../assets/uplot/LICENSE")),
        "workshop.css" => ("text/css; charset=utf-8", include_str!("pages/workshop.css")),
        "common.js" => ("text/javascript; charset=utf-8", include_str!("pages/common.js")),
        "facilitator.js" => ("text/javascript; charset=utf-8", include_str!("pages/facilitator.js")),
        "participant.js" => ("text/javascript; charset=utf-8", include_str!("pages/participant.js")),
        _ => return None,
    })
}
