import DicomPrepCore
import Foundation

/// The fixed benchmark corpus: series of 256x256 int16 slices in mixed planes and lengths, with
/// smooth anatomy-like content plus noise (so compression behaves as on real MR), laid out as
/// `case-K/series-J/Image-N.dcm`.
public struct BenchCorpus: Sendable {
    public var series = 40
    public var seriesPerCase = 4
    public var size = 256
    public var minSlices = 60
    public var maxSlices = 180
    public var seed: UInt64 = 2021

    public init() {}

    /// Writes the corpus; returns the number of files. Series are written in parallel.
    public func write(to dir: String, threads: Int = Parallel.cores) throws(DicomPrepError) -> Int {
        let planes: [(Vector3, Vector3)] = [
            (Vector3(1, 0, 0), Vector3(0, 1, 0)),
            (Vector3(0, 1, 0), Vector3(0, 0, -1)),
            (Vector3(1, 0, 0), Vector3(0, 0, -1)),
        ]
        var rng = SeededRandom(seed: seed)
        var specs: [SyntheticSeries] = []
        for k in 0..<series {
            var s = SyntheticSeries()
            s.rows = size
            s.columns = size
            s.slices = minSlices + Int(rng.next() % UInt64(maxSlices - minSlices + 1))
            (s.rowDirection, s.columnDirection) = planes[k % planes.count]
            s.pixelSpacing = [0.9375, 0.9375]
            s.sliceSpacing = 1 + Double(k % 3) * 0.5
            s.seriesNumber = k + 1
            s.seriesDescription = ["FLAIR", "T1w", "T1wCE", "T2w"][k % 4]
            s.bitsStored = 12
            s.seed = seed &+ UInt64(k)
            s.value = Self.phantom(size: size, slices: s.slices, seed: seed &+ UInt64(k))
            specs.append(s)
        }
        let counts = UnsafeSendableBox([Int](repeating: 0, count: specs.count))
        let failure = UnsafeSendableBox<DicomPrepError?>(nil)
        let spc = seriesPerCase
        let frozen = specs
        Parallel.forEach(count: frozen.count, threads: threads) { k in
            let folder = "\(dir)/case-\(String(format: "%03d", k / spc))/series-\(k % spc + 1)"
            do throws(DicomPrepError) {
                let n = try frozen[k].write(to: folder).count
                counts.withLock { $0[k] = n }
            } catch {
                failure.withLock { $0 = error }
            }
        }
        if let e = failure.take() { throw e }
        return counts.take().reduce(0, +)
    }

    /// A head-like phantom: an ellipsoid "brain" with smooth texture, a brighter rim, and noise.
    public static func phantom(size: Int, slices: Int, seed: UInt64) -> @Sendable (Int, Int, Int) -> Int {
        let n = Double(size), m = Double(slices)
        return { i, j, k in
            let x = (Double(i) - n / 2) / (n * 0.42), y = (Double(j) - n / 2) / (n * 0.48), z = (Double(k) - m / 2) / (m * 0.55)
            let r = x * x + y * y + z * z
            var h = UInt64(truncatingIfNeeded: i &* 73856093 ^ j &* 19349663 ^ k &* 83492791) ^ seed
            h = (h ^ (h >> 33)) &* 0xff51afd7ed558ccd
            let noise = Int(h >> 59) // 0...31
            if r > 1.1 { return noise / 4 }
            if r > 0.9 { return 900 + noise }
            let tex = 300 * (1 + sin(Double(i) * 0.11) * cos(Double(j) * 0.07 + Double(k) * 0.05))
            return 400 + Int(tex) + noise
        }
    }
}
