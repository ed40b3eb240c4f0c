import DicomPrepCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.0 server for a folder on 127.0.0.1 (GET and HEAD only; paths outside the folder are
/// refused), for `view --serve`.
public struct StaticServer: Sendable {
    public let root: String
    public let port: UInt16

    public init(root: String, port: UInt16) {
        self.root = URL(fileURLWithPath: root).standardizedFileURL.path
        self.port = port
    }

    static func type(_ path: String) -> String {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "html": return "text/html; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "json": return "application/json"
        case "png": return "image/png"
        case "svg": return "image/svg+xml"
        default: return "application/octet-stream"
        }
    }

    /// The response for a request line's target.
    public func response(method: String, target: String) -> (Int, String, [UInt8]) {
        guard method == "GET" || method == "HEAD" else { return (405, "text/plain", Array("method not allowed\n".utf8)) }
        var path = String(target.split(separator: "?").first ?? "/").removingPercentEncoding ?? "/"
        if path.hasSuffix("/") { path += "index.html" }
        let full = URL(fileURLWithPath: root + path).standardizedFileURL.path
        guard full == root || full.hasPrefix(root + "/") else { return (403, "text/plain", Array("forbidden\n".utf8)) }
        guard let d = FileManager.default.contents(atPath: full) else { return (404, "text/plain", Array("not found\n".utf8)) }
        return (200, Self.type(full), method == "HEAD" ? [] : [UInt8](d))
    }

    /// Serves until the process is stopped; `ready` is called once listening.
    public func serve(ready: (String) -> Void) throws(DicomPrepError) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .io(path: root, reason: "cannot open a socket") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw .io(path: root, reason: "cannot listen on 127.0.0.1:\(port) (in use?)") }
        ready("http://127.0.0.1:\(port)/")
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 { continue }
            var buf = [UInt8](repeating: 0, count: 8192)
            let n = read(c, &buf, buf.count)
            if n > 0 {
                let line = String(decoding: buf.prefix(n), as: UTF8.self).split(separator: "\r\n").first ?? ""
                let parts = line.split(separator: " ")
                let (status, type, body) = parts.count >= 2 ? response(method: String(parts[0]), target: String(parts[1])) : (400, "text/plain", Array("bad request\n".utf8))
                let reason = [200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"][status] ?? "Error"
                let head = Array("HTTP/1.0 \(status) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8)
                let out = head + body
                var sent = 0
                let total = out.count
                while sent < total {
                    let w = out.withUnsafeBytes { write(c, $0.baseAddress! + sent, total - sent) }
                    if w <= 0 { break }
                    sent += w
                }
            }
            close(c)
        }
    }
}
