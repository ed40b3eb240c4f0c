import CPng

/// An 8-bit image (grey or RGB) to be written as PNG through libpng.
public struct RasterImage: Sendable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int = 1, fill: UInt8 = 0) {
        self.width = width
        self.height = height
        self.channels = channels
        pixels = [UInt8](repeating: fill, count: width * height * channels)
    }

    public subscript(x: Int, y: Int) -> [UInt8] {
        get { Array(pixels[((y * width + x) * channels)..<((y * width + x + 1) * channels)]) }
        set { for c in 0..<channels { pixels[(y * width + x) * channels + c] = newValue[min(c, newValue.count - 1)] } }
    }

    /// The only Swift code that calls libpng: encode to PNG bytes.
    public func png() throws(DicomPrepError) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var len = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = pixels.withUnsafeBufferPointer { cpng_encode($0.baseAddress, UInt32(width), UInt32(height), Int32(channels), &out, &len, &err, err.count) }
        guard rc == 0, let out else {
            throw .io(path: "", reason: "PNG encoding failed: " + String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { cpng_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: len))
    }

    /// Writes the PNG atomically.
    public func write(to path: String) throws(DicomPrepError) {
        let bytes: [UInt8]
        do throws(DicomPrepError) { bytes = try png() } catch { throw .io(path: path, reason: error.reason) }
        try AtomicFile.write(bytes, to: path)
    }
}
