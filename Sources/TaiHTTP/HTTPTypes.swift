/// An HTTP method tai-gitops sends.
public enum HTTPMethod: String, Sendable {
    case get = "GET"
    case head = "HEAD"
    case post = "POST"
    case put = "PUT"
    case patch = "PATCH"
    case delete = "DELETE"
}

/// One request.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// Overrides the client's request timeout for this request.
    public var timeout: Duration?
    /// Streams the response body as it arrives (watches) instead of collecting it; return false
    /// to stop the transfer. The returned response then has an empty body.
    public var onBody: (@Sendable ([UInt8]) -> Bool)?

    public init(
        method: HTTPMethod = .get, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
        timeout: Duration? = nil, onBody: (@Sendable ([UInt8]) -> Bool)? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.onBody = onBody
    }
}

/// One response: status, headers in the order received, and the body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, matched without regard to case.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// How the client checks servers and proves itself to them.
public struct TLSOptions: Sendable, Equatable {
    /// A PEM bundle of certificate authorities to trust, by path…
    public var caFile: String?
    /// …or by content (as kubeconfig's `certificate-authority-data`, decoded).
    public var caData: [UInt8]?
    /// A client certificate (PEM) and its key, by path or by content.
    public var clientCertificateFile: String?
    public var clientKeyFile: String?
    public var clientCertificateData: [UInt8]?
    public var clientKeyData: [UInt8]?
    /// Skip verifying the server's certificate and host name. For test clusters only.
    public var insecureSkipVerify: Bool

    public init(
        caFile: String? = nil, caData: [UInt8]? = nil, clientCertificateFile: String? = nil,
        clientKeyFile: String? = nil, clientCertificateData: [UInt8]? = nil, clientKeyData: [UInt8]? = nil,
        insecureSkipVerify: Bool = false
    ) {
        self.caFile = caFile
        self.caData = caData
        self.clientCertificateFile = clientCertificateFile
        self.clientKeyFile = clientKeyFile
        self.clientCertificateData = clientCertificateData
        self.clientKeyData = clientKeyData
        self.insecureSkipVerify = insecureSkipVerify
    }
}

/// Settings shared by every request of a client.
public struct HTTPClientConfiguration: Sendable {
    public var tls: TLSOptions
    public var connectTimeout: Duration
    /// The whole request, connect to last byte; `nil` for none (watches).
    public var requestTimeout: Duration?
    /// Idle connections kept for reuse.
    public var maxIdleConnections: Int
    public var userAgent: String

    public init(
        tls: TLSOptions = TLSOptions(), connectTimeout: Duration = .seconds(10), requestTimeout: Duration? = .seconds(60),
        maxIdleConnections: Int = 8, userAgent: String = "tai-gitops"
    ) {
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.maxIdleConnections = maxIdleConnections
        self.userAgent = userAgent
    }
}

/// A request that got no HTTP response: connection refused, timeout, TLS failure…
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case couldNotConnect
        case timedOut
        case tls
        case invalidRequest
        case transport
    }

    public var kind: Kind
    public var method: HTTPMethod
    public var url: String
    /// libcurl's result code.
    public var curlCode: Int32
    public var message: String

    public var description: String { "\(method.rawValue) \(url): \(message)" }
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
