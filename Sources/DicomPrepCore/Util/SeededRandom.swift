import Foundation
/// A small deterministic random generator (SplitMix64), so synthetic data is reproducible from a seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x9E3779B97F4A7C15 }
    public mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    /// A DICOM UID under the 2.25 (UUID-derived) root.
    public mutating func uid() -> String {
        let a = next(), b = next() >> 1
        return "2.25.\(a)\(b)".prefix(64).description
    }
    /// A uniform Double in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// A standard normal value (Box-Muller, the cosine branch; two uniform draws).
    public mutating func normal() -> Double {
        let u1 = max(unit(), 1e-12), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
