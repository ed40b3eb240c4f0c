import DicomPrepCore
import Foundation

/// A parsed JSON document. Numbers are Doubles (a schema's "integer" is a number with no fraction); objects
/// keep their keys' order.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue], order: [String])

    public subscript(key: String) -> JSONValue? {
        if case let .object(d, _) = self { return d[key] }
        return nil
    }

    public var objectValue: [String: JSONValue]? { if case let .object(d, _) = self { return d }; return nil }
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { return a }; return nil }
    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    public var numberValue: Double? { if case let .number(n) = self { return n }; return nil }
    public var boolValue: Bool? { if case let .bool(b) = self { return b }; return nil }

    /// JSON Schema's equality: numbers by value (1 == 1.0), objects regardless of key order.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { $0 == $1 }
        case let (.object(x, _), .object(y, _)): return x.count == y.count && x.allSatisfy { k, v in y[k].map { $0 == v } ?? false }
        default: return false
        }
    }

    /// Parses JSON text; the error says where it went wrong.
    public static func parse(_ text: String) throws(DicomPrepError) -> JSONValue {
        var p = JSONParser(Array(text.utf8))
        return try p.document()
    }

    public static func parse(file path: String) throws(DicomPrepError) -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else { throw .io(path: path, reason: "cannot be read") }
        do throws(DicomPrepError) {
            var p = JSONParser(Array(data))
            return try p.document()
        } catch {
            throw .io(path: path, reason: "not valid JSON: \(error.reason)")
        }
    }
}

struct JSONParser {
    let b: [UInt8]
    var i = 0
    init(_ bytes: [UInt8]) { b = bytes }

    mutating func document() throws(DicomPrepError) -> JSONValue {
        if b.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        let v = try value(depth: 0)
        skip()
        if i != b.count { throw fail("unexpected text after the document") }
        return v
    }

    func fail(_ m: String) -> DicomPrepError { .io(path: "", reason: "\(m) at byte \(i)") }

    mutating func skip() { while i < b.count, [0x20, 0x0A, 0x0D, 0x09].contains(b[i]) { i += 1 } }

    mutating func value(depth: Int) throws(DicomPrepError) -> JSONValue {
        guard depth < 512 else { throw fail("nesting too deep") }
        skip()
        guard i < b.count else { throw fail("unexpected end") }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var d: [String: JSONValue] = [:], order: [String] = []
            skip()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(d, order: order) }
            while true {
                skip()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                let k = try string()
                skip()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                let v = try value(depth: depth + 1)
                if d[k] == nil { order.append(k) }
                d[k] = v
                skip()
                guard i < b.count else { throw fail("unexpected end") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(d, order: order) }
                throw fail("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            i += 1
            var a: [JSONValue] = []
            skip()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true {
                a.append(try value(depth: depth + 1))
                skip()
                guard i < b.count else { throw fail("unexpected end") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try number())
        }
    }

    mutating func literal(_ s: String) throws(DicomPrepError) {
        let u = Array(s.utf8)
        guard i + u.count <= b.count, Array(b[i..<(i + u.count)]) == u else { throw fail("invalid literal") }
        i += u.count
    }

    mutating func number() throws(DicomPrepError) -> Double {
        let start = i
        while i < b.count, let c = Optional(b[i]), (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { i += 1 }
        guard i > start, let v = Double(String(decoding: b[start..<i], as: UTF8.self)) else { throw fail("invalid number") }
        return v
    }

    mutating func hex4() throws(DicomPrepError) -> UInt32 {
        guard i + 4 <= b.count, let v = UInt32(String(decoding: b[i..<(i + 4)], as: UTF8.self), radix: 16) else { throw fail("invalid \\u escape") }
        i += 4
        return v
    }

    mutating func string() throws(DicomPrepError) -> String {
        i += 1
        var out: [UInt8] = []
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard i < b.count else { break }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    var cp = try hex4()
                    if (0xD800...0xDBFF).contains(cp), i + 6 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                        i += 2
                        let lo = try hex4()
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    out.append(contentsOf: Array(String(Unicode.Scalar(cp).map(Character.init) ?? "\u{FFFD}").utf8))
                default: out.append(e)
                }
                continue
            }
            out.append(c)
            i += 1
        }
        throw fail("unterminated string")
    }
}
