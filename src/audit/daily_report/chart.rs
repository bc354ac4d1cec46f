//! The daily report's chart: cold and hot holdings (left axis, BTC) and the
//! cold share against the policy minimum (right axis, percent), one point
//! per day. Plain SVG, so any browser or document tool shows it.

use std::fmt::Write as _;

use super::DayPoint;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 60.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 50.0;

/// The chart of `days`, with the policy's minimum cold share drawn.
pub(super) fn render(days: &[DayPoint], cold_min_percent: u8) -> String {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let max_btc = days
        .iter()
        .map(|d| d.cold.to_btc().max(d.hot.to_btc()))
        .fold(0.0, f64::max)
        .max(0.000_000_01);
    let x = |i: usize| match days.len() {
        0 | 1 => LEFT + plot_w / 2.0,
        n => LEFT + plot_w * i as f64 / (n - 1) as f64,
    };
    let y_btc = |btc: f64| TOP + plot_h * (1.0 - btc / max_btc);
    let y_pct = |pct: f64| TOP + plot_h * (1.0 - pct / 100.0);
    let line = |value: &dyn Fn(&DayPoint) -> f64| -> String {
        days.iter()
            .enumerate()
            .map(|(i, d)| format!("{:.1},{:.1}", x(i), value(d)))
            .collect::<Vec<_>>()
            .join(" ")
    };

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="18" font-size="14">Vault holdings per day (BTC) and cold share (%), from the chain</text>"#
    );
    // Axes and their scales.
    let _ = writeln!(
        s,
        r#"<path d="M{LEFT},{TOP} V{} H{}" stroke="black" fill="none"/>"#,
        TOP + plot_h,
        LEFT + plot_w
    );
    let _ = writeln!(
        s,
        r#"<path d="M{},{TOP} V{}" stroke="black" fill="none"/>"#,
        LEFT + plot_w,
        TOP + plot_h
    );
    for k in 0..=4 {
        let f = f64::from(k) / 4.0;
        let yy = TOP + plot_h * (1.0 - f);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{:.4}</text>"#,
            LEFT - 6.0,
            yy + 4.0,
            max_btc * f
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}">{}%</text>"#,
            LEFT + plot_w + 6.0,
            yy + 4.0,
            k * 25
        );
    }
    for (i, d) in days.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="10">{}</text>"#,
            x(i),
            TOP + plot_h + 16.0,
            &d.date[5..]
        );
    }
    // The policy minimum, then the three series.
    let min_y = y_pct(f64::from(cold_min_percent));
    let _ = writeln!(
        s,
        r#"<path d="M{LEFT},{min_y:.1} H{}" stroke="gray" stroke-dasharray="4 3" fill="none"/><text x="{}" y="{:.1}" fill="gray">cold minimum {cold_min_percent}%</text>"#,
        LEFT + plot_w,
        LEFT + 4.0,
        min_y - 4.0
    );
    for (name, color, points) in [
        ("cold (BTC)", "#1f5fa8", line(&|d| y_btc(d.cold.to_btc()))),
        ("hot (BTC)", "#c0392b", line(&|d| y_btc(d.hot.to_btc()))),
        (
            "cold share (%)",
            "#2e8b57",
            line(&|d| y_pct(d.cold_percent)),
        ),
    ] {
        let _ = writeln!(
            s,
            r#"<polyline points="{points}" stroke="{color}" stroke-width="2" fill="none"><title>{name}</title></polyline>"#
        );
        for p in points.split(' ').filter(|p| !p.is_empty()) {
            let (cx, cy) = p.split_once(',').expect("x,y");
            let _ = writeln!(s, r#"<circle cx="{cx}" cy="{cy}" r="3" fill="{color}"/>"#);
        }
    }
    for (i, (name, color)) in [
        ("cold (BTC)", "#1f5fa8"),
        ("hot (BTC)", "#c0392b"),
        ("cold share (%)", "#2e8b57"),
    ]
    .iter()
    .enumerate()
    {
        let lx = LEFT + 150.0 * i as f64;
        let ly = HEIGHT - 12.0;
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{}" width="12" height="4" fill="{color}"/><text x="{}" y="{ly}">{name}</text>"#,
            ly - 6.0,
            lx + 16.0
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use bitcoin::Amount;

    use super::*;

    #[test]
    fn the_chart_is_svg_with_one_point_per_day_and_series() {
        let days: Vec<DayPoint> = (1..=3)
            .map(|d| DayPoint {
                date: format!("2026-12-0{d}"),
                height: d,
                cold: Amount::from_sat(900 * d),
                hot: Amount::from_sat(100 * d),
                cold_percent: 90.0,
            })
            .collect();
        let svg = render(&days, 80);
        assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert_eq!(svg.matches("<circle").count(), 9);
        assert!(svg.contains("cold minimum 80%"));
        assert!(svg.contains(">12-03<"));
        // No days: still a valid, empty chart.
        let empty = render(&[], 80);
        assert_eq!(empty.matches("<circle").count(), 0);
    }
}
