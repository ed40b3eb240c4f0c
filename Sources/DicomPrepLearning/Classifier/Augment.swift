import DicomPrepCore
import Foundation

/// Training-time augmentation of a (slices, rows, columns) float volume, driven by a seeded generator so
/// that an epoch is the same whether run straight through or resumed.
public struct Augmentation: Sendable, Equatable, Codable {
    /// Random flips along rows and columns (each with probability 1/2).
    public var flip = false
    /// Random in-plane rotation up to ±`maxDegrees`, bilinear, zero outside.
    public var rotate = false
    public var maxDegrees = 15.0

    public init(flip: Bool = false, rotate: Bool = false) {
        self.flip = flip
        self.rotate = rotate
    }

    /// Parses "flip,rotate" (or "none").
    public init(parsing s: String) throws(DicomPrepError) {
        for p in s.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !p.isEmpty && p != "none" {
            switch p {
            case "flip": flip = true
            case "rotate": rotate = true
            default: throw .usage("unknown augmentation \(p) (flip, rotate)")
            }
        }
    }

    public var names: [String] { (flip ? ["flip"] : []) + (rotate ? ["rotate"] : []) }

    public func apply(_ x: inout [Float], shape: [Int], rng: inout SeededRandom) {
        let d = shape[0], h = shape[1], w = shape[2]
        if flip {
            let fr = rng.unit() < 0.5, fc = rng.unit() < 0.5
            if fr || fc {
                var out = x
                for z in 0..<d { for y in 0..<h { for c in 0..<w {
                    out[(z * h + y) * w + c] = x[(z * h + (fr ? h - 1 - y : y)) * w + (fc ? w - 1 - c : c)]
                } } }
                x = out
            }
        }
        if rotate {
            let a = (rng.unit() * 2 - 1) * maxDegrees * .pi / 180
            let ca = Float(cos(a)), sa = Float(sin(a))
            let cy = Float(h - 1) / 2, cx = Float(w - 1) / 2
            var out = [Float](repeating: 0, count: x.count)
            for y in 0..<h { for c in 0..<w {
                // Inverse mapping: where in the source this output pixel comes from.
                let dy = Float(y) - cy, dx = Float(c) - cx
                let sy = ca * dy + sa * dx + cy, sx = -sa * dy + ca * dx + cx
                guard sy >= 0, sx >= 0, sy <= Float(h - 1), sx <= Float(w - 1) else { continue }
                let y0 = Int(sy), x0 = Int(sx), y1 = min(y0 + 1, h - 1), x1 = min(x0 + 1, w - 1)
                let ty = sy - Float(y0), tx = sx - Float(x0)
                for z in 0..<d {
                    let b = z * h * w
                    let v = (1 - ty) * ((1 - tx) * x[b + y0 * w + x0] + tx * x[b + y0 * w + x1]) + ty * ((1 - tx) * x[b + y1 * w + x0] + tx * x[b + y1 * w + x1])
                    out[b + y * w + c] = v
                }
            } }
            x = out
        }
    }
}
