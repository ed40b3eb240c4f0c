/// Natural ordering of names: digit runs compare as numbers, so "Image-2" sorts before "Image-10".
public enum NaturalOrder {
    public static func less(_ a: String, _ b: String) -> Bool {
        var i = a.unicodeScalars.makeIterator(), j = b.unicodeScalars.makeIterator()
        var ca = i.next(), cb = j.next()
        while let x = ca, let y = cb {
            if x.properties.numericType == .decimal && y.properties.numericType == .decimal, x.isASCII, y.isASCII {
                var na = "", nb = ""
                while let c = ca, c.isASCII, c.properties.numericType == .decimal { na.unicodeScalars.append(c); ca = i.next() }
                while let c = cb, c.isASCII, c.properties.numericType == .decimal { nb.unicodeScalars.append(c); cb = j.next() }
                let ta = na.drop { $0 == "0" }, tb = nb.drop { $0 == "0" }
                if ta.count != tb.count { return ta.count < tb.count }
                if ta != tb { return ta < tb }
                if na.count != nb.count { return na.count < nb.count }
                continue
            }
            if x != y { return x.value < y.value }
            ca = i.next(); cb = j.next()
        }
        return ca == nil && cb != nil
    }
}
