import Foundation

/// Inline SVG charts for the HTML report: no scripts, no external assets, readable when printed.
enum SVGCharts {
    /// A colour per model, chosen to stay distinct for up to eight models (Okabe–Ito palette, colour-blind safe).
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

    static func colour(_ i: Int) -> String { palette[i % palette.count] }

    /// Grouped bars: one group per criterion, one bar per model at its mean, with a whisker for the 95% CI.
    static func meansChart(_ s: EvaluationSummary) -> String {
        let groups = ReportTables.columns(s)
        let width = 960.0, height = 340.0, left = 48.0, right = 16.0, top = 16.0, bottom = 58.0
        let plotW = width - left - right, plotH = height - top - bottom
        let lo = Double(min(0, s.scaleMin)), hi = Double(s.scaleMax)
        func y(_ v: Double) -> Double { top + plotH * (1 - (v - lo) / (hi - lo)) }
        let groupW = plotW / Double(groups.count)
        let barW = min(36, groupW * 0.8 / Double(max(1, s.models.count)))
        var svg = "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"Mean score per criterion with 95% CI\" xmlns=\"http://www.w3.org/2000/svg\">"
        for tick in Int(lo)...Int(hi) {
            let ty = y(Double(tick))
            svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(f(ty))\" y2=\"\(f(ty))\" class=\"grid\"/>"
            svg += "<text x=\"\(left - 8)\" y=\"\(f(ty + 4))\" text-anchor=\"end\" class=\"tick\">\(tick)</text>"
        }
        for (g, criterion) in groups.enumerated() {
            let gx = left + groupW * Double(g)
            let startX = gx + (groupW - barW * Double(s.models.count)) / 2
            for (mi, m) in s.models.enumerated() {
                let interval = criterion == "Overall" ? m.overall : m.criteria.first { $0.criterion == criterion }?.mean
                guard let interval, !interval.estimate.isNaN else { continue }
                let x = startX + barW * Double(mi)
                let top = y(interval.estimate)
                svg += "<rect x=\"\(f(x + 1))\" y=\"\(f(top))\" width=\"\(f(barW - 2))\" height=\"\(f(y(lo) - top))\" fill=\"\(colour(mi))\">"
                svg += "<title>\(HTMLReport.escape(m.label)) · \(HTMLReport.escape(criterion)): \(ReportFormat.interval(interval))</title></rect>"
                let cx = x + barW / 2
                svg += "<path d=\"M\(f(cx)) \(f(y(interval.low)))V\(f(y(interval.high)))M\(f(cx - 5)) \(f(y(interval.low)))h10M\(f(cx - 5)) \(f(y(interval.high)))h10\" class=\"whisker\"/>"
            }
            svg += "<text x=\"\(f(gx + groupW / 2))\" y=\"\(f(height - bottom + 20))\" text-anchor=\"middle\" class=\"axis\">\(HTMLReport.escape(criterion))</text>"
        }
        var lx = left
        for (mi, m) in s.models.enumerated() {
            svg += "<rect x=\"\(f(lx))\" y=\"\(f(height - 22))\" width=\"12\" height=\"12\" fill=\"\(colour(mi))\"/>"
            svg += "<text x=\"\(f(lx + 16))\" y=\"\(f(height - 12))\" class=\"axis\">\(HTMLReport.escape(m.label))</text>"
            lx += 28 + Double(m.label.count) * 7.5
        }
        return svg + "</svg>"
    }

    /// One small histogram of a criterion's scores for one model; bar heights share the model's largest count.
    static func histogram(_ counts: [Int], scaleMin: Int, colour: String, title: String, sharedMax: Int) -> String {
        let width = 200.0, height = 110.0, bottom = 18.0, top = 14.0
        let barW = width / Double(max(1, counts.count))
        let peak = Double(max(1, sharedMax))
        var svg = "<svg class=\"hist\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(HTMLReport.escape(title))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for (i, c) in counts.enumerated() {
            let h = (height - bottom - top) * Double(c) / peak
            let x = Double(i) * barW
            svg += "<rect x=\"\(f(x + 2))\" y=\"\(f(height - bottom - h))\" width=\"\(f(barW - 4))\" height=\"\(f(h))\" fill=\"\(colour)\"><title>score \(scaleMin + i): \(c)</title></rect>"
            svg += "<text x=\"\(f(x + barW / 2))\" y=\"\(f(height - 4))\" text-anchor=\"middle\" class=\"tick\">\(scaleMin + i)</text>"
            if c > 0 { svg += "<text x=\"\(f(x + barW / 2))\" y=\"\(f(height - bottom - h - 3))\" text-anchor=\"middle\" class=\"count\">\(c)</text>" }
        }
        return svg + "</svg>"
    }

    private static func f(_ x: Double) -> String { String(format: "%.1f", x) }
}
