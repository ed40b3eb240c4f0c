/// Natural ordering of names: digit runs compare as numbers, so "Image-2" sorts before "Image-10".
/// Works on UTF-8 bytes (whose order is the code points' order); only ASCII digits form numbers.
public enum NaturalOrder {
    public static func less(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in less(x, y) } }
    }

    @inline(__always) static func digit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    static func less(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0, j = 0
        while i < x.count && j < y.count {
            let cx = x[i], cy = y[j]
            if digit(cx) && digit(cy) {
                var ie = i, je = j
                while ie < x.count && digit(x[ie]) { ie += 1 }
                while je < y.count && digit(y[je]) { je += 1 }
                var si = i, sj = j
                while si < ie && x[si] == 0x30 { si += 1 }
                while sj < je && y[sj] == 0x30 { sj += 1 }
                // Fewer significant digits is smaller; then digit by digit; then fewer leading zeros first.
                if ie - si != je - sj { return ie - si < je - sj }
                for k in 0..<(ie - si) where x[si + k] != y[sj + k] { return x[si + k] < y[sj + k] }
                if ie - i != je - j { return ie - i < je - j }
                i = ie
                j = je
                continue
            }
            if cx != cy { return cx < cy }
            i += 1
            j += 1
        }
        return i == x.count && j < y.count
    }
}
