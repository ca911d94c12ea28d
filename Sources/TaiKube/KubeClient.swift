import Foundation
import TaiCore
import TaiHTTP
import TaiProcess

/// Limits and behaviour of a ``KubeClient``.
public struct KubeClientSettings: Sendable {
    /// Requests per second (token bucket) and the burst allowed above it.
    public var qps: Double
    public var burst: Int
    /// Retries after a 429, 5xx or connection failure (then the error is reported).
    public var maxRetries: Int
    /// Backoff: base delay, doubled each retry up to the cap, with full jitter; Retry-After wins.
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// Requests in flight at once for bulk operations.
    public var maxParallel: Int
    public var userAgent: String
    public var requestTimeout: Duration
    /// Told of every answer (retries included): the method and the HTTP status, 0 when no answer
    /// came (for metrics of API requests by verb and code).
    public var onResponse: (@Sendable (_ method: String, _ status: Int) -> Void)?

    public init(
        qps: Double = 1000, burst: Int = 2000, maxRetries: Int = 8, baseDelay: Duration = .milliseconds(100),
        maxDelay: Duration = .seconds(5), maxParallel: Int = 8, userAgent: String = "tai-gitops/0.1.0", requestTimeout: Duration = .seconds(60)
    ) {
        self.qps = qps
        self.burst = burst
        self.maxRetries = maxRetries
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxParallel = maxParallel
        self.userAgent = userAgent
        self.requestTimeout = requestTimeout
    }
}

/// One kind as the cluster serves it.
public struct APIResource: Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String
    public var plural: String
    public var namespaced: Bool

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    var prefix: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The collection path (`/apis/apps/v1/namespaces/ns/deployments`), all namespaces when nil.
    public func collectionPath(namespace: String?) -> String {
        if namespaced, let namespace { return "\(prefix)/namespaces/\(namespace)/\(plural)" }
        return "\(prefix)/\(plural)"
    }

    /// RFC 3986's unreserved characters: never escaped in a path or a query.
    static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
    }

    private static let unreservedCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
    private static let pathCharacters = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))

    /// A query value percent-encoded: all but the unreserved characters.
    static func escapeQuery(_ s: String) -> String {
        if s.utf8.allSatisfy(isUnreserved) { return s }
        return s.addingPercentEncoding(withAllowedCharacters: unreservedCharacters) ?? s
    }

    public func objectPath(namespace: String?, name: String) -> String {
        collectionPath(namespace: namespaced ? (namespace ?? "default") : nil) + "/" + Self.escape(name)
    }

    static func escape(_ s: String) -> String {
        if s.utf8.allSatisfy(isUnreserved) { return s }
        return s.addingPercentEncoding(withAllowedCharacters: pathCharacters) ?? s
    }
}

/// The Kubernetes API over libcurl: credentials, discovery with a cache, retries with capped
/// jittered backoff honouring Retry-After, a client-side rate limit, typed errors.
public final class KubeClient: Sendable {
    public let config: ClusterConfig
    public let settings: KubeClientSettings
    private let state = Locked(State())
    private let limiter: RateLimiter

    struct State {
        var http: HTTPClient?
        var resources: [String: APIResource] = [:]  // "apiVersion/Kind"
        var discovered = false
        var token: (value: String, expires: Date?, source: Date?)?
        var requests = 0
    }

    public init(config: ClusterConfig, settings: KubeClientSettings = KubeClientSettings()) {
        self.config = config
        self.settings = settings
        limiter = RateLimiter(qps: settings.qps, burst: settings.burst)
    }

    /// Requests sent so far (retries included), for benchmarks and tests.
    public var requestCount: Int { state.withLock { $0.requests } }

    // MARK: Requests

    /// One API request with retries; returns the status and body of a 2xx answer (404 too when `allowNotFound`).
    public func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
        contentType: String = "application/json", allowNotFound: Bool = false
    ) async throws(KubeError) -> (status: Int, body: [UInt8]) {
        var url = config.server + path
        if !query.isEmpty {
            url += "?" + query.map { "\($0.0)=\(APIResource.escapeQuery($0.1))" }.joined(separator: "&")
        }
        let description = "\(method.rawValue) \(path)"
        var attempt = 0
        while true {
            await limiter.acquire()
            var headers: [(name: String, value: String)] = [("Accept", "application/json")]
            if body != nil { headers.append(("Content-Type", contentType)) }
            let (client, authorization) = try await authorize()
            if let authorization { headers.append(("Authorization", authorization)) }
            state.withLock { $0.requests += 1 }
            let result: Result<HTTPResponse, HTTPError>
            do {
                result = .success(try await client.execute(HTTPRequest(method: method, url: url, headers: headers, body: body)))
            } catch {
                result = .failure(error)
            }
            if let onResponse = settings.onResponse {
                switch result {
                case .success(let response): onResponse(method.rawValue, response.status)
                case .failure: onResponse(method.rawValue, 0)
                }
            }
            switch result {
            case .success(let response):
                if (200..<300).contains(response.status) || (allowNotFound && response.status == 404) {
                    return (response.status, response.body)
                }
                let retryable = response.status == 429 || [500, 502, 503, 504].contains(response.status)
                if response.status == 401, case .tokenFile = config.credentials, attempt == 0 {
                    state.withLock { $0.token = nil }  // a rotated token: read it again once
                    attempt += 1
                    continue
                }
                guard retryable, attempt < settings.maxRetries else { throw KubeError.from(response, request: description) }
                let retryAfter = response.headers.first { $0.name.lowercased() == "retry-after" }.flatMap { Int($0.value.trimmingCharacters(in: .whitespaces)) }
                try? await Task.sleep(for: delay(attempt: attempt, retryAfter: retryAfter))
            case .failure(let error):
                guard error.kind != .tls, error.kind != .invalidRequest, attempt < settings.maxRetries else {
                    throw .transport(error, request: description)
                }
                try? await Task.sleep(for: delay(attempt: attempt, retryAfter: nil))
            }
            attempt += 1
        }
    }

    private func delay(attempt: Int, retryAfter: Int?) -> Duration {
        if let retryAfter { return .seconds(min(max(retryAfter, 0), 30)) }
        let cap = min(settings.baseDelay * (1 << min(attempt, 20)), settings.maxDelay)
        let ms = max(cap.milliseconds, 1)
        return .milliseconds(Int.random(in: (ms / 2)...ms))
    }

    /// A client for a long watch (its own connection pool, no request timeout) and the Authorization header.
    func authorizeForWatch() async throws(KubeError) -> (HTTPClient, String?) {
        let (shared, header) = try await authorize()
        _ = shared
        var tls = config.tls
        if case .exec(let exec) = config.credentials {
            let credential = try await execCredential(exec)
            if let cert = credential.clientCertificate, let key = credential.clientKey {
                tls.clientCertificateData = cert
                tls.clientKeyData = key
            }
        }
        return (HTTPClient(configuration: HTTPClientConfiguration(tls: tls, requestTimeout: nil, maxIdleConnections: 1, userAgent: settings.userAgent)), header)
    }

    /// The HTTP client and Authorization header for the current credentials.
    private func authorize() async throws(KubeError) -> (HTTPClient, String?) {
        var tls = config.tls
        var header: String?
        switch config.credentials {
        case .none: break
        case .token(let token): header = "Bearer \(token)"
        case .basic(let user, let password): header = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        case .tokenFile(let path): header = "Bearer \(try fileToken(path))"
        case .exec(let exec):
            let credential = try await execCredential(exec)
            if let token = credential.token { header = "Bearer \(token)" }
            if let cert = credential.clientCertificate, let key = credential.clientKey {
                tls.clientCertificateData = cert
                tls.clientKeyData = key
            }
        }
        let timeout = settings.requestTimeout
        let agent = settings.userAgent
        let client = state.withLock { state -> HTTPClient in
            if let http = state.http { return http }
            let http = HTTPClient(configuration: HTTPClientConfiguration(tls: tls, requestTimeout: timeout, maxIdleConnections: max(16, settings.maxParallel), userAgent: agent))
            state.http = http
            return http
        }
        return (client, header)
    }

    /// A token file's content, re-read when the file changes (service-account tokens rotate).
    private func fileToken(_ path: String) throws(KubeError) -> String {
        let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate]) as? Date
        if let cached = state.withLock({ $0.token }), cached.source == modified { return cached.value }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .configuration("token file \(path) cannot be read")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        state.withLock { $0.token = (token, nil, modified) }
        return token
    }

    struct ExecCredential {
        var token: String?
        var clientCertificate: [UInt8]?
        var clientKey: [UInt8]?
    }

    /// Runs the credential plugin (cached until the expiry it reports).
    private func execCredential(_ exec: ExecConfig) async throws(KubeError) -> ExecCredential {
        if let cached = state.withLock({ $0.token }), cached.expires.map({ $0 > Date().addingTimeInterval(10) }) ?? true, cached.source == nil {
            return ExecCredential(token: cached.value)
        }
        let command = exec.command.contains("/") && !exec.command.hasPrefix("/") ? exec.baseDirectory + "/" + exec.command : exec.command
        var env = ProcessInfo.processInfo.environment
        for (name, value) in exec.env { env[name] = value }
        env["KUBERNETES_EXEC_INFO"] = #"{"apiVersion":"\#(exec.apiVersion)","kind":"ExecCredential","spec":{"interactive":false}}"#
        let result: ProcessOutput
        do { result = try ChildProcess.run(command, exec.args, environment: env) } catch { throw .credentialPlugin(error.description) }
        let data = result.standardOutput
        guard result.status == 0 else {
            throw .credentialPlugin("\(exec.command) exited \(result.status): \(result.errorText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard let doc = try? JSON.parse([UInt8](data)), let status = doc["status"] else {
            throw .credentialPlugin("\(exec.command) did not print an ExecCredential with a status")
        }
        if let version = doc["apiVersion"]?.stringValue, version != exec.apiVersion {
            throw .credentialPlugin("\(exec.command) answered \(version), but the kubeconfig asked for \(exec.apiVersion)")
        }
        let token = status["token"]?.stringValue
        let cert = status["clientCertificateData"]?.stringValue.map { [UInt8]($0.utf8) }
        let key = status["clientKeyData"]?.stringValue.map { [UInt8]($0.utf8) }
        guard token != nil || (cert != nil && key != nil) else {
            throw .credentialPlugin("\(exec.command) returned neither a token nor a client certificate and key")
        }
        let expires = status["expirationTimestamp"]?.stringValue.flatMap { ISO8601DateFormatter().date(from: $0) }
        if let token { state.withLock { $0.token = (token, expires, nil) } }
        if cert != nil { state.withLock { $0.http = nil } }
        return ExecCredential(token: token, clientCertificate: cert, clientKey: key)
    }

    // MARK: Discovery

    /// The resource serving a kind; discovery is cached and read again once when the kind is unknown
    /// (a CRD applied since).
    public func resource(apiVersion: String, kind: String) async throws(KubeError) -> APIResource {
        let key = "\(apiVersion)/\(kind)"
        if let found = state.withLock({ $0.resources[key] }) { return found }
        try await discover()
        if let found = state.withLock({ $0.resources[key] }) { return found }
        throw .unknownKind(apiVersion: apiVersion, kind: kind)
    }

    /// Every kind served, from a fresh discovery.
    public func discover() async throws(KubeError) {
        var found: [String: APIResource] = [:]
        var groupVersions = ["v1"]
        let (_, body) = try await send(.get, "/apis")
        for group in (try? JSON.parse(body))?["groups"]?.listValue ?? [] {
            for version in group["versions"]?.listValue ?? [] {
                if let gv = version["groupVersion"]?.stringValue { groupVersions.append(gv) }
            }
        }
        for gv in groupVersions {
            let path = gv == "v1" ? "/api/v1" : "/apis/\(gv)"
            let (status, body) = try await send(.get, path, allowNotFound: true)
            guard status == 200, let list = try? JSON.parse(body) else { continue }
            let parts = gv.split(separator: "/").map(String.init)
            let group = parts.count == 2 ? parts[0] : ""
            let version = parts.last ?? gv
            for r in list["resources"]?.listValue ?? [] {
                guard let name = r["name"]?.stringValue, !name.contains("/"), let kind = r["kind"]?.stringValue else { continue }
                found["\(gv)/\(kind)"] = APIResource(group: group, version: version, kind: kind, plural: name, namespaced: r["namespaced"]?.boolValue ?? false)
            }
        }
        state.withLock {
            $0.resources = found
            $0.discovered = true
        }
    }

    // MARK: Verbs

    /// The object, or nil when it does not exist.
    public func get(_ resource: APIResource, namespace: String?, name: String) async throws(KubeError) -> Value? {
        let (status, body) = try await send(.get, resource.objectPath(namespace: namespace, name: name), allowNotFound: true)
        if status == 404 { return nil }
        return try decode(body, "GET \(resource.objectPath(namespace: namespace, name: name))")
    }

    /// Every object of a kind in a namespace (all namespaces when nil), fetched in pages of 500.
    public func list(_ resource: APIResource, namespace: String?, labelSelector: String? = nil) async throws(KubeError) -> [Value] {
        var items: [Value] = []
        var token: String?
        repeat {
            var query: [(String, String)] = [("limit", "500")]
            if let labelSelector { query.append(("labelSelector", labelSelector)) }
            if let token { query.append(("continue", token)) }
            let path = resource.collectionPath(namespace: namespace)
            let (_, body) = try await send(.get, path, query: query)
            let list = try decode(body, "GET \(path)")
            for var item in list["items"]?.listValue ?? [] {
                item["apiVersion"] = .string(resource.apiVersion)
                item["kind"] = .string(resource.kind)
                items.append(item)
            }
            token = list[path: ["metadata", "continue"]]?.stringValue
            if token?.isEmpty == true { token = nil }
        } while token != nil
        return items
    }

    /// Server-side apply of an object under a field manager.
    public func apply(_ object: Value, fieldManager: String, force: Bool = false, dryRun: Bool = false) async throws(KubeError) -> Value {
        let (path, body) = try await sendApply(object, fieldManager: fieldManager, force: force, dryRun: dryRun)
        return try decode(body, "PATCH \(path)")
    }

    /// A server-side apply whose answer is not needed: the returned object is not decoded.
    public func applyDiscardingResult(_ object: Value, fieldManager: String, force: Bool = false, dryRun: Bool = false) async throws(KubeError) {
        _ = try await sendApply(object, fieldManager: fieldManager, force: force, dryRun: dryRun)
    }

    private func sendApply(_ object: Value, fieldManager: String, force: Bool, dryRun: Bool) async throws(KubeError) -> (path: String, body: [UInt8]) {
        let resource = try await resource(apiVersion: object["apiVersion"]?.stringValue ?? "", kind: object["kind"]?.stringValue ?? "")
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        let namespace = resource.namespaced ? (object[path: ["metadata", "namespace"]]?.stringValue ?? config.namespace) : nil
        var query: [(String, String)] = [("fieldManager", fieldManager), ("force", force ? "true" : "false")]
        if dryRun { query.append(("dryRun", "All")) }
        let path = resource.objectPath(namespace: namespace, name: name)
        let (_, body) = try await send(.patch, path, query: query, body: JSON.serializeBytes(object), contentType: "application/apply-patch+yaml")
        return (path, body)
    }

    /// A merge, JSON or strategic-merge patch.
    public func patch(_ resource: APIResource, namespace: String?, name: String, patch: Value, type: String, fieldManager: String) async throws(KubeError) -> Value {
        let path = resource.objectPath(namespace: namespace, name: name)
        let (_, body) = try await send(.patch, path, query: [("fieldManager", fieldManager)], body: JSON.serializeBytes(patch), contentType: type)
        return try decode(body, "PATCH \(path)")
    }

    /// Deletes an object (background propagation); false when it was already gone.
    @discardableResult
    public func delete(_ resource: APIResource, namespace: String?, name: String, dryRun: Bool = false) async throws(KubeError) -> Bool {
        let path = resource.objectPath(namespace: namespace, name: name)
        let (status, _) = try await send(
            .delete, path, query: dryRun ? [("dryRun", "All")] : [], body: Array(#"{"propagationPolicy":"Background"}"#.utf8), allowNotFound: true)
        return status != 404
    }

    private func decode(_ body: [UInt8], _ request: String) throws(KubeError) -> Value {
        do { return try JSON.parse(body) } catch { throw .malformedResponse("\(error)", request: request) }
    }
}

/// A token bucket shared by every request of a client. A lock, not an actor: a request that
/// finds a token (nearly all of them) goes on without a hop to another executor.
final class RateLimiter: Sendable {
    let qps: Double
    let burst: Double
    private let bucket: Locked<(tokens: Double, last: ContinuousClock.Instant)>

    init(qps: Double, burst: Int) {
        self.qps = max(qps, 0.1)
        self.burst = Double(max(burst, 1))
        bucket = Locked((Double(max(burst, 1)), ContinuousClock.now))
    }

    /// Takes a token, waiting for the bucket to refill when it is empty.
    func acquire() async {
        let wait = bucket.withLock { bucket -> Double in
            let now = ContinuousClock.now
            let elapsed = now - bucket.last
            bucket.last = now
            let refill = (elapsed.inSeconds) * qps
            bucket.tokens = min(burst, bucket.tokens + refill) - 1
            return bucket.tokens < 0 ? -bucket.tokens / qps : 0
        }
        if wait > 0 { try? await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
    }
}

/// A value behind a lock (Foundation only, so the module needs no NIO).
final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func withLock<R>(_ body: (inout T) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}

extension KubeClient {
    /// The preferred resource of a group and kind from the last discovery.
    public func resources(group: String, kind: String) async -> APIResource? {
        let all = state.withLock { Array($0.resources.values) }
        return all.filter { $0.group == group && $0.kind == kind }.sorted { $0.version < $1.version }.first
    }
}

/// One event of a watch.
public struct KubeWatchEvent: Sendable {
    /// ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.
    public var type: String
    public var object: Value
}

extension KubeClient {
    /// Creates an object (POST); 409 AlreadyExists is an error.
    public func create(_ object: Value, fieldManager: String) async throws(KubeError) -> Value {
        let resource = try await resource(apiVersion: object["apiVersion"]?.stringValue ?? "", kind: object["kind"]?.stringValue ?? "")
        let namespace = resource.namespaced ? (object[path: ["metadata", "namespace"]]?.stringValue ?? config.namespace) : nil
        let path = resource.collectionPath(namespace: namespace)
        let (_, body) = try await send(.post, path, query: [("fieldManager", fieldManager)], body: JSON.serializeBytes(object))
        do { return try JSON.parse(body) } catch { throw .malformedResponse("\(error)", request: "POST \(path)") }
    }

    /// Watches a kind (in a namespace, or all), from a resource version (without one: the
    /// current objects first, as ADDED). The stream ends when the server closes the watch or the
    /// consumer stops iterating.
    public func watch(
        _ resource: APIResource, namespace: String?, resourceVersion: String? = nil, labelSelector: String? = nil
    ) -> AsyncThrowingStream<KubeWatchEvent, any Error> {
        AsyncThrowingStream { continuation in
            let stop = Locked(false)
            continuation.onTermination = { _ in stop.withLock { $0 = true } }
            let task = Task.detached {
                do {
                    var query = [("watch", "true")]
                    if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
                    if let labelSelector { query.append(("labelSelector", labelSelector)) }
                    let path = resource.collectionPath(namespace: namespace)
                    let (client, authorization) = try await self.authorizeForWatch()
                    var url = self.config.server + path + "?" + query.map { "\($0.0)=\(APIResource.escapeQuery($0.1))" }.joined(separator: "&")
                    url = url.replacingOccurrences(of: "??", with: "?")
                    var headers: [(name: String, value: String)] = [("Accept", "application/json")]
                    if let authorization { headers.append(("Authorization", authorization)) }
                    let pending = Locked<[UInt8]>([])
                    let request = HTTPRequest(method: .get, url: url, headers: headers, timeout: .seconds(86_400)) { chunk in
                        if stop.withLock({ $0 }) { return false }
                        let lines: [[UInt8]] = pending.withLock { buffer in
                            buffer += chunk
                            var out: [[UInt8]] = []
                            while let newline = buffer.firstIndex(of: 10) {
                                out.append(Array(buffer[..<newline]))
                                buffer.removeSubrange(...newline)
                            }
                            return out
                        }
                        for line in lines where !line.isEmpty {
                            guard let event = try? JSON.parse(line) else { continue }
                            continuation.yield(KubeWatchEvent(type: event["type"]?.stringValue ?? "", object: event["object"] ?? .null))
                        }
                        return true
                    }
                    // The request blocks until the watch ends: on a thread of its own, never on the
                    // cooperative pool (a few watches would otherwise hold every one of its threads).
                    let response: HTTPResponse = try await withCheckedThrowingContinuation { continuation in
                        let thread = Thread {
                            do { continuation.resume(returning: try client.executeBlocking(request)) } catch { continuation.resume(throwing: error) }
                        }
                        thread.stackSize = 1 << 20
                        thread.start()
                    }
                    if !(200..<300).contains(response.status) {
                        continuation.finish(throwing: KubeError.from(response, request: "GET \(path) (watch)"))
                    } else {
                        continuation.finish()
                    }
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            _ = task
        }
    }

}
