import DicomPrepCore
import Foundation

/// One place where a document breaks its schema.
public struct SchemaViolation: Sendable, Equatable, CustomStringConvertible {
    /// JSON pointer into the document, e.g. "/outputs/0/nifti".
    public var pointer: String
    public var message: String
    public var description: String { "\(pointer.isEmpty ? "/" : pointer): \(message)" }
}

/// A JSON Schema (draft 2020-12 subset, also reading draft-07 documents) validator: type, properties,
/// patternProperties, required, additionalProperties, items, prefixItems, contains, enum, const,
/// numeric bounds, multipleOf, string lengths, pattern, array and object sizes, uniqueItems,
/// $ref/$defs/definitions, allOf/anyOf/oneOf/not, if/then/else, dependentRequired, propertyNames,
/// format date-time/date/uri/email.
public struct SchemaValidator: Sendable {
    public let root: JSONValue
    /// Other schema documents that `$ref` may name by file name (e.g. "common.schema.json#/$defs/x").
    public let library: [String: JSONValue]

    public init(schema: JSONValue, library: [String: JSONValue] = [:]) {
        root = schema
        self.library = library
    }

    public func validate(_ doc: JSONValue) -> [SchemaViolation] {
        var out: [SchemaViolation] = []
        check(doc, root, "", root, &out, depth: 0)
        return out
    }

    /// Whether `doc` satisfies `schema` (no violations collected).
    func valid(_ doc: JSONValue, _ schema: JSONValue, _ base: JSONValue, depth: Int) -> Bool {
        var tmp: [SchemaViolation] = []
        check(doc, schema, "", base, &tmp, depth: depth)
        return tmp.isEmpty
    }

    static func escape(_ k: String) -> String {
        k.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    func resolve(_ ref: String, _ base: JSONValue) -> (JSONValue, JSONValue)? {
        let parts = ref.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        var doc = base
        if let file = parts.first, !file.isEmpty {
            let name = String(file).split(separator: "/").last.map(String.init) ?? String(file)
            guard let d = library[name] else { return nil }
            doc = d
        }
        var node = doc
        if parts.count > 1, !parts[1].isEmpty {
            for raw in parts[1].split(separator: "/", omittingEmptySubsequences: true) {
                let key = String(raw).removingPercentEncoding?.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~") ?? String(raw)
                switch node {
                case let .object(d, _):
                    guard let n = d[key] else { return nil }
                    node = n
                case let .array(a):
                    guard let idx = Int(key), idx >= 0, idx < a.count else { return nil }
                    node = a[idx]
                default: return nil
                }
            }
        }
        return (node, doc)
    }

    static func typeName(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "boolean"
        case let .number(n): return n == n.rounded() && abs(n) < 9e15 ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    func check(_ doc: JSONValue, _ schema: JSONValue, _ ptr: String, _ base: JSONValue, _ out: inout [SchemaViolation], depth: Int) {
        if case let .bool(b) = schema {
            if !b { out.append(SchemaViolation(pointer: ptr, message: "no value is allowed here")) }
            return
        }
        guard case let .object(s, _) = schema, depth < 64 else { return }
        func fail(_ m: String) { out.append(SchemaViolation(pointer: ptr, message: m)) }

        if let ref = s["$ref"]?.stringValue {
            if let (target, newBase) = resolve(ref, base) {
                check(doc, target, ptr, newBase, &out, depth: depth + 1)
            } else {
                fail("schema reference \(ref) cannot be resolved")
            }
        }
        if let t = s["type"] {
            let names: [String] = t.stringValue.map { [$0] } ?? (t.arrayValue?.compactMap(\.stringValue) ?? [])
            let actual = Self.typeName(doc)
            let ok = names.contains(actual) || (actual == "integer" && names.contains("number"))
            if !ok { fail("is \(actual), expected \(names.joined(separator: " or "))") }
        }
        if let e = s["enum"]?.arrayValue, !e.contains(where: { $0 == doc }) { fail("is not one of the allowed values") }
        if let c = s["const"], !(c == doc) { fail("must equal the constant \(c)") }

        switch doc {
        case let .number(n):
            if let m = s["minimum"]?.numberValue, n < m { fail("\(n) is below the minimum \(m)") }
            if let m = s["maximum"]?.numberValue, n > m { fail("\(n) is above the maximum \(m)") }
            if let m = s["exclusiveMinimum"]?.numberValue, n <= m { fail("\(n) must be greater than \(m)") }
            if let m = s["exclusiveMaximum"]?.numberValue, n >= m { fail("\(n) must be less than \(m)") }
            if let m = s["multipleOf"]?.numberValue, m > 0 {
                let q = n / m
                if !q.isFinite || abs(q - q.rounded()) > 1e-9 { fail("\(n) is not a multiple of \(m)") }
            }
        case let .string(str):
            let len = str.unicodeScalars.count
            if let m = s["minLength"]?.numberValue, Double(len) < m { fail("is shorter than \(Int(m)) characters") }
            if let m = s["maxLength"]?.numberValue, Double(len) > m { fail("is longer than \(Int(m)) characters") }
            if let p = s["pattern"]?.stringValue {
                if let re = try? NSRegularExpression(pattern: p) {
                    if re.firstMatch(in: str, range: NSRange(str.startIndex..., in: str)) == nil { fail("does not match the pattern \(p)") }
                }
            }
            if let f = s["format"]?.stringValue, !Self.formatOK(f, str) { fail("is not a valid \(f)") }
        case let .array(a):
            if let m = s["minItems"]?.numberValue, Double(a.count) < m { fail("has fewer than \(Int(m)) items") }
            if let m = s["maxItems"]?.numberValue, Double(a.count) > m { fail("has more than \(Int(m)) items") }
            if s["uniqueItems"]?.boolValue == true {
                outer: for x in 0..<a.count { for y in (x + 1)..<max(x + 1, a.count) where a[x] == a[y] { fail("items \(x) and \(y) are equal"); break outer } }
            }
            var prefix = 0
            if let pi = s["prefixItems"]?.arrayValue {
                prefix = pi.count
                for (k, sub) in pi.enumerated() where k < a.count { check(a[k], sub, ptr + "/\(k)", base, &out, depth: depth + 1) }
            }
            if let items = s["items"] {
                if let list = items.arrayValue {
                    // draft-07 tuple form
                    for (k, sub) in list.enumerated() where k < a.count { check(a[k], sub, ptr + "/\(k)", base, &out, depth: depth + 1) }
                    if let extra = s["additionalItems"] {
                        for k in list.count..<max(list.count, a.count) { check(a[k], extra, ptr + "/\(k)", base, &out, depth: depth + 1) }
                    }
                } else {
                    for k in prefix..<max(prefix, a.count) { check(a[k], items, ptr + "/\(k)", base, &out, depth: depth + 1) }
                }
            }
            if let c = s["contains"] {
                let n = a.filter { valid($0, c, base, depth: depth + 1) }.count
                let minC = s["minContains"]?.numberValue.map(Int.init) ?? 1
                if n < minC { fail("contains \(n) matching items, needs \(minC)") }
                if let maxC = s["maxContains"]?.numberValue.map(Int.init), n > maxC { fail("contains more than \(maxC) matching items") }
            }
        case let .object(o, _):
            if let m = s["minProperties"]?.numberValue, Double(o.count) < m { fail("has fewer than \(Int(m)) properties") }
            if let m = s["maxProperties"]?.numberValue, Double(o.count) > m { fail("has more than \(Int(m)) properties") }
            if let req = s["required"]?.arrayValue {
                for r in req.compactMap(\.stringValue) where o[r] == nil { fail("is missing the required property \"\(r)\"") }
            }
            let props = s["properties"]?.objectValue ?? [:]
            let patterns = (s["patternProperties"]?.objectValue ?? [:]).compactMap { (k, v) in (try? NSRegularExpression(pattern: k)).map { ($0, v) } }
            for (k, v) in o.sorted(by: { $0.key < $1.key }) {
                let p = ptr + "/" + Self.escape(k)
                var matched = false
                if let sub = props[k] { matched = true; check(v, sub, p, base, &out, depth: depth + 1) }
                for (re, sub) in patterns where re.firstMatch(in: k, range: NSRange(k.startIndex..., in: k)) != nil {
                    matched = true
                    check(v, sub, p, base, &out, depth: depth + 1)
                }
                if !matched, let ap = s["additionalProperties"] {
                    if case .bool(false) = ap { out.append(SchemaViolation(pointer: p, message: "property \"\(k)\" is not allowed")) } else { check(v, ap, p, base, &out, depth: depth + 1) }
                }
                if let pn = s["propertyNames"], !valid(.string(k), pn, base, depth: depth + 1) {
                    out.append(SchemaViolation(pointer: p, message: "property name \"\(k)\" is not allowed"))
                }
            }
            for (k, deps) in s["dependentRequired"]?.objectValue ?? [:] where o[k] != nil {
                for d in deps.arrayValue?.compactMap(\.stringValue) ?? [] where o[d] == nil { fail("has \"\(k)\" but not \"\(d)\"") }
            }
            for (k, dep) in s["dependencies"]?.objectValue ?? [:] where o[k] != nil {
                if let list = dep.arrayValue {
                    for d in list.compactMap(\.stringValue) where o[d] == nil { fail("has \"\(k)\" but not \"\(d)\"") }
                } else {
                    check(doc, dep, ptr, base, &out, depth: depth + 1)
                }
            }
            for (k, dep) in s["dependentSchemas"]?.objectValue ?? [:] where o[k] != nil { check(doc, dep, ptr, base, &out, depth: depth + 1) }
        default: break
        }

        if let all = s["allOf"]?.arrayValue { for sub in all { check(doc, sub, ptr, base, &out, depth: depth + 1) } }
        if let any = s["anyOf"]?.arrayValue, !any.contains(where: { valid(doc, $0, base, depth: depth + 1) }) { fail("matches none of anyOf") }
        if let one = s["oneOf"]?.arrayValue {
            let n = one.filter { valid(doc, $0, base, depth: depth + 1) }.count
            if n != 1 { fail("matches \(n) of oneOf, expected exactly 1") }
        }
        if let not = s["not"], valid(doc, not, base, depth: depth + 1) { fail("must not match the schema in \"not\"") }
        if let cond = s["if"] {
            if valid(doc, cond, base, depth: depth + 1) {
                if let t = s["then"] { check(doc, t, ptr, base, &out, depth: depth + 1) }
            } else if let e = s["else"] {
                check(doc, e, ptr, base, &out, depth: depth + 1)
            }
        }
    }

    static func formatOK(_ f: String, _ s: String) -> Bool {
        switch f {
        case "date-time":
            let p = #"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"#
            guard s.range(of: p, options: .regularExpression) != nil else { return false }
            let d = s.prefix(10).split(separator: "-").compactMap { Int($0) }
            let t = s.dropFirst(11).prefix(8).split(separator: ":").compactMap { Int($0) }
            return d.count == 3 && (1...12).contains(d[1]) && (1...31).contains(d[2]) && t.count == 3 && t[0] < 24 && t[1] < 60 && t[2] <= 60
        case "date":
            guard s.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil else { return false }
            let d = s.split(separator: "-").compactMap { Int($0) }
            return (1...12).contains(d[1]) && (1...31).contains(d[2])
        case "uri":
            return s.range(of: #"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$"#, options: .regularExpression) != nil
        case "email":
            return s.range(of: #"^[^@\s]+@[^@\s]+$"#, options: .regularExpression) != nil
        default:
            return true
        }
    }
}
