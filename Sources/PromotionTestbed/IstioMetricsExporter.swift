import Foundation
import Synchronization
import TaiCore
import TaiHTTPServer

/// Serves the Istio request metrics of one workload at `/metrics`, as the sidecars would report
/// them to Prometheus, with a success rate and a latency the caller sets: the canary's traffic for
/// promotion tests and the demo. Counters grow with time at `requestsPerSecond`.
public final class IstioMetricsExporter: Sendable {
    struct Traffic: Sendable {
        var successRate: Double
        var latencyMilliseconds: Double
        var last: ContinuousClock.Instant
        var ok = 0.0
        var failed = 0.0
        /// Cumulative counts per bucket bound.
        var buckets: [Double: Double] = [:]
        var sum = 0.0
    }

    /// Istio's default bucket bounds of `istio_request_duration_milliseconds`.
    static let bounds: [Double] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000]

    public let workload: String
    public let namespace: String
    public let requestsPerSecond: Double
    private let traffic: Mutex<Traffic>
    private let server: HTTPFrontend

    public var url: String { "http://127.0.0.1:\(server.port)" }
    public var port: Int { server.port }

    private init(workload: String, namespace: String, requestsPerSecond: Double, traffic: Traffic, server: HTTPFrontend) {
        self.workload = workload
        self.namespace = namespace
        self.requestsPerSecond = requestsPerSecond
        self.traffic = Mutex(traffic)
        self.server = server
    }

    public static func start(
        workload: String, namespace: String, successRate: Double = 1, latencyMilliseconds: Double = 20, requestsPerSecond: Double = 100
    ) async throws -> IstioMetricsExporter {
        let traffic = Traffic(successRate: successRate, latencyMilliseconds: latencyMilliseconds, last: .now)
        let box = Mutex<IstioMetricsExporter?>(nil)
        let server = try await HTTPFrontend.start(host: "127.0.0.1", port: 0, maxBody: 4096) { request in
            guard request.path == "/metrics", let exporter = box.withLock({ $0 }) else { return .text(404, "not found") }
            return FrontendResponse(status: 200, contentType: "text/plain; version=0.0.4", body: Array(exporter.exposition().utf8))
        }
        let exporter = IstioMetricsExporter(workload: workload, namespace: namespace, requestsPerSecond: requestsPerSecond, traffic: traffic, server: server)
        box.withLock { $0 = exporter }
        return exporter
    }

    public func stop() async { await server.stop() }

    /// From now on, this share of requests succeeds (the rest answer 503) and they take this long.
    public func set(successRate: Double? = nil, latencyMilliseconds: Double? = nil) {
        traffic.withLock { t in
            Self.advance(&t, rate: requestsPerSecond)
            if let successRate { t.successRate = successRate }
            if let latencyMilliseconds { t.latencyMilliseconds = latencyMilliseconds }
        }
    }

    private static func advance(_ t: inout Traffic, rate: Double) {
        let now = ContinuousClock.now
        let requests = (now - t.last).inSeconds * rate
        t.last = now
        t.ok += requests * t.successRate
        t.failed += requests * (1 - t.successRate)
        for bound in bounds where t.latencyMilliseconds <= bound { t.buckets[bound, default: 0] += requests }
        t.sum += requests * t.latencyMilliseconds
    }

    /// The Prometheus text exposition of the counters now.
    func exposition() -> String {
        let t = traffic.withLock { t in
            Self.advance(&t, rate: requestsPerSecond)
            return t
        }
        let labels = "reporter=\"destination\",destination_workload=\"\(workload)\",destination_workload_namespace=\"\(namespace)\""
        var out = "# TYPE istio_requests_total counter\n"
        out += "istio_requests_total{\(labels),response_code=\"200\"} \(Int(t.ok))\n"
        out += "istio_requests_total{\(labels),response_code=\"503\"} \(Int(t.failed))\n"
        out += "# TYPE istio_request_duration_milliseconds histogram\n"
        for bound in Self.bounds {
            out += "istio_request_duration_milliseconds_bucket{\(labels),le=\"\(Int(bound))\"} \(Int(t.buckets[bound] ?? 0))\n"
        }
        let total = Int(t.ok + t.failed)
        out += "istio_request_duration_milliseconds_bucket{\(labels),le=\"+Inf\"} \(total)\n"
        out += "istio_request_duration_milliseconds_sum{\(labels)} \(Int(t.sum))\n"
        out += "istio_request_duration_milliseconds_count{\(labels)} \(total)\n"
        return out
    }
}
