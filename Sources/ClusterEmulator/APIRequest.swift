import Foundation
import TaiCore
import TaiSSA

/// An HTTP request as the API sees it.
public struct APIRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var headers: [String: String] {
        didSet { contentType = Self.mediaType(headers) }
    }
    public var body: [UInt8]
    /// The media type of the body, without parameters (`application/json; charset=utf-8` →
    /// `application/json`); `application/json` when none is given.
    public private(set) var contentType: String
    /// The client presented a certificate the server's client CA signed (mutual TLS).
    public var authenticatedByCertificate = false

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        let headers = headers.keys.allSatisfy(Self.isLowercase) ? headers : Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), $0.value) })
        self.headers = headers
        self.body = body
        contentType = Self.mediaType(headers)
    }

    /// Header names arrive lower-cased from the HTTP server: checked, not lower-cased again.
    static func isLowercase(_ name: String) -> Bool {
        !name.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }

    /// Splits `/path?a=b&c=d` (percent-decoded).
    public init(method: String, uri: String, headers: [String: String] = [:], body: [UInt8] = []) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query[Self.decodeQueryComponent(kv[0])] = kv.count > 1 ? Self.decodeQueryComponent(kv[1]) : ""
            }
        }
        self.init(method: method, path: String(parts[0]), query: query, headers: headers, body: body)
    }

    /// `+` is a space and `%XX` a byte; most components have neither.
    static func decodeQueryComponent(_ part: Substring) -> String {
        guard part.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return String(part) }
        let spaced = part.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    private static func mediaType(_ headers: [String: String]) -> String {
        guard let raw = headers["content-type"] else { return "application/json" }
        var media = raw.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        while let first = media.first, first == " " || first == "\t" { media.removeFirst() }
        while let last = media.last, last == " " || last == "\t" { media.removeLast() }
        return String(media)
    }
    var wantsTable: Bool { headers["accept"]?.contains("as=Table") ?? false }
    var isDryRun: Bool { query["dryRun"] == "All" }

    /// The field manager: the query's, else the User-Agent's program name (as kube-apiserver does).
    var fieldManager: String {
        if let manager = query["fieldManager"], !manager.isEmpty { return manager }
        let agent = headers["user-agent"] ?? "unknown"
        return String(agent.split(separator: "/").first ?? "unknown")
    }
}

/// What the API answers: a whole body, or a stream of watch events.
public enum APIResponse: Sendable {
    case body(status: Int, contentType: String, headers: [String: String], bytes: [UInt8])
    case watch(WatchRequest)

    static func json(_ status: Int, _ value: Value, contentType: String = "application/json", headers: [String: String] = [:]) -> APIResponse {
        .body(status: status, contentType: contentType, headers: headers, bytes: { var bytes = JSON.serializeBytes(value); bytes.append(10); return bytes }())
    }

    static func error(_ error: APIError) -> APIResponse {
        var headers: [String: String] = [:]
        if let retry = error.retryAfter { headers["Retry-After"] = String(retry) }
        return json(error.code, error.status, headers: headers)
    }

    /// The HTTP status, for accounting.
    var status: Int {
        switch self {
        case .body(let status, _, _, _): status
        case .watch: 200
        }
    }
}

/// A watch the transport keeps open: it registers `send` with the cluster and writes each event.
public struct WatchRequest: Sendable {
    public var contentType: String
    /// Starts the watch; returns a token for `stop`.
    public var start: @Sendable (_ send: @escaping @Sendable ([UInt8]) -> Void) -> Int
    public var stop: @Sendable (Int) -> Void
}
