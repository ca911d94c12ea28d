import CCurl
import Synchronization

/// libcurl is initialised once per process, on first use.
private let curlInitialized: Bool = {
    curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    return true
}()

/// An HTTP client over libcurl. Connections are pooled and reused across requests, so
/// keep-alive and TLS sessions carry over. Asynchronous requests are all driven by one libcurl
/// multi handle on a thread of the client's own (never Swift's cooperative pool), however many
/// are in flight; ``executeBlocking(_:)`` runs a request on the calling thread instead.
public final class HTTPClient: Sendable {
    public let configuration: HTTPClientConfiguration
    /// Easy handles (request state) not in use.
    private let idle = Mutex<[CurlConnection]>([])
    private let multi: CurlMulti

    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        _ = curlInitialized
        self.configuration = configuration
        multi = CurlMulti(maxConnections: configuration.maxIdleConnections)
    }

    deinit { multi.shutdown() }

    /// Sends a request and waits for the whole response.
    ///
    /// - Throws: ``HTTPError`` when no response arrived. Any HTTP status, 4xx and 5xx included,
    ///   is a response, not an error.
    public func execute(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        let connection = idle.withLock { $0.popLast() } ?? CurlConnection()
        if let failure = connection.prepare(request, configuration: configuration) {
            release(connection)
            throw failure
        }
        let result: Result<HTTPResponse, HTTPError> = await withCheckedContinuation { continuation in
            multi.submit(
                CurlMulti.Transfer(connection: connection) { result in
                    self.release(connection)
                    continuation.resume(returning: result)
                })
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
        release(connection)
        return result
    }

    private func release(_ connection: CurlConnection) {
        idle.withLock { pool in
            if pool.count < configuration.maxIdleConnections { pool.append(connection) }
        }
    }
}
