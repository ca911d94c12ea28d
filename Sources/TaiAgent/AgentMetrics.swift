import Foundation
import Metrics
import TaiApply

/// The agent's metrics, through swift-metrics (exported for Prometheus at `/metrics`), each with
/// the environment as a dimension.
struct AgentMetrics: Sendable {
    func recordSync(_ record: SyncRecord, environment: String) {
        let dimensions = [("environment", environment)]
        Timer(label: "tai_gitops_sync_duration_seconds", dimensions: dimensions).recordNanoseconds(Int64(record.seconds * 1e9))
        Counter(label: "tai_gitops_syncs_total", dimensions: dimensions + [("result", record.result.rawValue)]).increment()
        if record.result == .synced {
            Gauge(label: "tai_gitops_last_successful_sync_timestamp_seconds", dimensions: dimensions).record(Date().timeIntervalSince1970)
        }
        Gauge(label: "tai_gitops_sync_failing", dimensions: dimensions).record(record.result == .failed ? 1 : 0)
    }

    func recordFetch(seconds: Double, failed: Bool, environment: String) {
        let dimensions = [("environment", environment)]
        if seconds > 0 { Timer(label: "tai_gitops_fetch_duration_seconds", dimensions: dimensions).recordNanoseconds(Int64(seconds * 1e9)) }
        if failed { Counter(label: "tai_gitops_fetch_errors_total", dimensions: dimensions).increment() }
    }

    func recordDrift(drifted: Int, environment: String) {
        Gauge(label: "tai_gitops_drifted_objects", dimensions: [("environment", environment)]).record(drifted)
    }

    func recordApply(_ report: ApplyReport, environment: String) {
        let dimensions = [("environment", environment)]
        Counter(label: "tai_gitops_pruned_objects_total", dimensions: dimensions).increment(by: report.count(.deleted))
        Counter(label: "tai_gitops_applied_objects_total", dimensions: dimensions).increment(by: report.count(.created) + report.count(.configured))
        Gauge(label: "tai_gitops_failed_objects", dimensions: dimensions).record(report.count(.failed))
        Counter(label: "tai_gitops_writes_total", dimensions: dimensions).increment(by: report.writes)
    }

    /// An API answer (`status` 0: none came), by verb and code.
    static func recordAPIResponse(method: String, status: Int) {
        Counter(label: "tai_gitops_api_requests_total", dimensions: [("verb", method), ("code", status == 0 ? "error" : String(status))]).increment()
    }

    func recordLeader(_ leading: Bool, lease: String) {
        Gauge(label: "tai_gitops_leader", dimensions: [("lease", lease)]).record(leading ? 1 : 0)
    }

    func recordWebhook(status: Int) {
        Counter(label: "tai_gitops_webhooks_total", dimensions: [("code", String(status))]).increment()
    }
}
