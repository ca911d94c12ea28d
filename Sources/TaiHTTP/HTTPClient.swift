import CCurl
import Dispatch
import Synchronization

/// libcurl is initialised once per process, on first use.
private let curlInitialized: Bool = {
    curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    return true
}()

/// An HTTP client over libcurl. Connections (curl easy handles) are pooled and reused across
/// requests, so keep-alive and TLS sessions carry over; each request runs on a Dispatch
/// thread, never on Swift's cooperative pool — on a serial queue of its own, since Linux's
/// libdispatch runs a concurrent queue's blocking work about one thread per core, which would cap
/// parallel requests at the core count however slow the server is.
public final class HTTPClient: Sendable {
    public let configuration: HTTPClientConfiguration
    private let idle = Mutex<[CurlConnection]>([])
    /// Serial queues not running a request; one is made when none is free.
    private let idleLanes = Mutex<[DispatchQueue]>([])

    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        _ = curlInitialized
        self.configuration = configuration
    }

    /// Sends a request and waits for the whole response.
    ///
    /// - Throws: ``HTTPError`` when no response arrived. Any HTTP status, 4xx and 5xx included,
    ///   is a response, not an error.
    public func execute(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        let result: Result<HTTPResponse, HTTPError> = await withCheckedContinuation { continuation in
            let lane = idleLanes.withLock { $0.popLast() } ?? DispatchQueue(label: "tai-gitops.http")
            lane.async {
                let result = self.performBlocking(request)
                self.idleLanes.withLock { $0.append(lane) }
                continuation.resume(returning: result)
            }
        }
        return try result.get()
    }

    /// Sends a request on the calling thread. For callers that are already off the
    /// cooperative pool.
    public func executeBlocking(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        try performBlocking(request).get()
    }

    /// The number of connections waiting for reuse.
    public var idleConnectionCount: Int { idle.withLock { $0.count } }

    private func performBlocking(_ request: HTTPRequest) -> Result<HTTPResponse, HTTPError> {
        let connection = idle.withLock { $0.popLast() } ?? CurlConnection()
        let result = connection.perform(request, configuration: configuration)
        idle.withLock { pool in
            if pool.count < configuration.maxIdleConnections { pool.append(connection) }
        }
        return result
    }
}
