import Foundation

/// The loss curve of a training run as a self-contained SVG: training loss per step (thin) and evaluation loss
/// (dots joined), on shared axes. Same inputs → same bytes (fixed number formatting, no dates).
enum LossCurveSVG {
    static func render(train: [(step: Int, loss: Double)], eval: [(step: Int, loss: Double)], totalSteps: Int,
                       title: String) -> String {
        let w = 720.0, h = 360.0, left = 56.0, right = 16.0, top = 32.0, bottom = 40.0
        let points = (train + eval).filter { $0.loss.isFinite }
        let xMax = Double(max(1, totalSteps, points.map(\.step).max() ?? 1))
        var lo = points.map(\.loss).min() ?? 0, hi = points.map(\.loss).max() ?? 1
        if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
        let pad = (hi - lo) * 0.05
        lo = max(0, lo - pad); hi += pad
        func x(_ s: Int) -> Double { left + (w - left - right) * Double(s) / xMax }
        func y(_ v: Double) -> Double { top + (h - top - bottom) * (1 - (v - lo) / (hi - lo)) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func path(_ pts: [(step: Int, loss: Double)]) -> String {
            pts.filter { $0.loss.isFinite }.enumerated()
                .map { ($0.offset == 0 ? "M" : "L") + f(x($0.element.step)) + " " + f(y($0.element.loss)) }.joined(separator: " ")
        }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" \
            font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(left))" y="20" font-size="14">\(escape(title))</text>

            """
        for i in 0...4 {
            let v = lo + (hi - lo) * Double(i) / 4
            s += "<line x1=\"\(f(left))\" x2=\"\(f(w - right))\" y1=\"\(f(y(v)))\" y2=\"\(f(y(v)))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(String(format: "%.3f", v))</text>\n"
        }
        for i in 0...4 {
            let st = Int((xMax * Double(i) / 4).rounded())
            s += "<text x=\"\(f(x(st)))\" y=\"\(f(h - bottom + 16))\" text-anchor=\"middle\">\(st)</text>\n"
        }
        s += "<text x=\"\(f((left + w - right) / 2))\" y=\"\(f(h - 6))\" text-anchor=\"middle\">step</text>\n"
        if !train.isEmpty {
            s += "<path d=\"\(path(train))\" fill=\"none\" stroke=\"#4e79a7\" stroke-width=\"1.2\"/>\n"
        }
        if !eval.isEmpty {
            s += "<path d=\"\(path(eval))\" fill=\"none\" stroke=\"#e15759\" stroke-width=\"2\"/>\n"
            for p in eval where p.loss.isFinite {
                s += "<circle cx=\"\(f(x(p.step)))\" cy=\"\(f(y(p.loss)))\" r=\"3\" fill=\"#e15759\"/>\n"
            }
        }
        s += "<text x=\"\(f(w - right - 150))\" y=\"20\" fill=\"#4e79a7\">— train</text>"
        s += "<text x=\"\(f(w - right - 80))\" y=\"20\" fill=\"#e15759\">● eval</text>\n</svg>\n"
        return s
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
