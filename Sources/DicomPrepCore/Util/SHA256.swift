import Crypto

/// SHA-256 as lower-case hex, over apple/swift-crypto (BoringSSL's implementation on Linux, CryptoKit's on
/// Apple platforms): checksums in dataset.json, fingerprints for --resume, cache keys.
public struct SHA256 {
    private var hasher = Crypto.SHA256()

    public init() {}

    public mutating func update(_ data: UnsafeRawBufferPointer) { hasher.update(bufferPointer: data) }
    public mutating func update(_ bytes: [UInt8]) { hasher.update(data: bytes) }

    /// The digest of everything given so far, as 64 hex digits.
    public mutating func finalize() -> String { Self.text(hasher.finalize()) }

    public static func hex(_ data: UnsafeRawBufferPointer) -> String {
        var h = Crypto.SHA256()
        h.update(bufferPointer: data)
        return text(h.finalize())
    }
    public static func hex(_ bytes: [UInt8]) -> String { text(Crypto.SHA256.hash(data: bytes)) }

    static func text(_ d: Crypto.SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef")
        var s = ""
        s.reserveCapacity(64)
        for b in d {
            s.append(digits[Int(b >> 4)])
            s.append(digits[Int(b & 15)])
        }
        return s
    }
}
