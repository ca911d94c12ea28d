import Foundation
import Synchronization
import Logging
import TaiApply
import TaiCore
import TaiDiff
public import TaiKube
import TaiRender

/// One sync of one environment, as a run of named steps (fetch, render, diff, apply, record),
/// each a method, as fluxcd's kustomize-controller cuts a reconcile.
public struct EnvironmentSync: Sendable {
    public let settings: SyncSettings
    public let fetcher: SourceFetcher
    public let client: KubeClient
    public let fieldManager: String
    let metrics: AgentMetrics
    let logger: Logger
    /// The last render, by snapshot: a snapshot of a commit never changes, so a sync of the same
    /// commit (the interval, a cluster change) diffs without rendering again.
    private let lastRender = RenderCache()

    private final class RenderCache: Sendable {
        let entry = Mutex<(key: String, rendered: RenderedEnvironment)?>(nil)
    }

    init(settings: SyncSettings, fetcher: SourceFetcher, client: KubeClient, fieldManager: String, metrics: AgentMetrics, logger: Logger) {
        self.settings = settings
        self.fetcher = fetcher
        self.client = client
        self.fieldManager = fieldManager
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "environment"] = .string(settings.name)
        self.logger = logger
    }

    /// What set a sync off.
    public enum Trigger: String, Sendable {
        case start, interval, webhook, clusterChange = "cluster change", retry
        /// The agent merged a promotion step itself: git moved.
        case promotion
    }

    /// Runs the steps; never throws: a failure is a record with result `Failed` and the cluster
    /// untouched past the failing step (in particular, nothing is pruned after a failure).
    /// `previous` is the last record; `stopping` says whether the agent is shutting down (the
    /// sync then stops before its next step).
    func run(trigger: Trigger, requestedAt: ContinuousClock.Instant, previous: SyncRecord, stopping: @Sendable () -> Bool) async -> SyncRecord {
        let start = ContinuousClock.now
        var record = await steps(trigger: trigger, requestedAt: requestedAt, previous: previous, stopping: stopping)
        let elapsed = ContinuousClock.now - start
        record.seconds = elapsed.inSeconds
        metrics.recordSync(record, environment: settings.name)
        return record
    }

    private func steps(trigger: Trigger, requestedAt: ContinuousClock.Instant, previous: SyncRecord, stopping: @Sendable () -> Bool) async -> SyncRecord {
        var record = SyncRecord(environment: settings.name)
        record.appliedRevision = previous.appliedRevision
        record.time = Date()
        // What the last apply did stays on the record until another apply happens.
        (record.created, record.configured, record.pruned, record.failed) = (previous.created, previous.configured, previous.pruned, previous.failed)
        var log = logger
        // Fetch (and verify: the source cache refuses a revision that fails the trust policy).
        let fetched: FetchedRevision
        do {
            fetched = try await fetcher.fetch(revision: settings.revision, notBefore: requestedAt)
            metrics.recordFetch(seconds: fetched.seconds, failed: fetched.stale, environment: settings.name)
        } catch {
            metrics.recordFetch(seconds: 0, failed: true, environment: settings.name)
            return failed(&record, step: "fetch", error: "\(error)", log: log)
        }
        record.revision = fetched.commit
        log[metadataKey: "revision"] = .string(String(fetched.commit.prefix(12)))
        for event in fetched.events { log.warning("\(event)") }
        if fetched.stale { record.message = fetched.events.joined(separator: "; ") }
        if stopping() { return interrupted(&record, before: "render") }

        // Render.
        let rendered: RenderedEnvironment
        let directory = fetched.directory + "/" + settings.path
        // Snapshots are immutable; a local checkout may change under the same HEAD.
        let cacheKey: String? = fetcher.location.isSnapshot ? directory : nil
        if let cacheKey, let cached = lastRender.entry.withLock({ $0?.key == cacheKey ? $0?.rendered : nil }) {
            rendered = cached
        } else {
            do {
                rendered = try RenderedEnvironment.render(name: settings.name, directory: directory, fallbackNamespace: client.config.namespace)
            } catch {
                return failed(&record, step: "render", error: "\(error)", log: log)
            }
            if let cacheKey { lastRender.entry.withLock { $0 = (cacheKey, rendered) } }
        }
        record.inventoryNamespace = rendered.inventory.namespace
        record.watchSelector = "\(Inventory.partOfLabel)=\(rendered.inventory.id)"
        record.watchKinds = rendered.watchKinds
        record.canaryWeights = rendered.canaryWeights.map { SyncRecord.CanaryWeight(virtualService: $0.virtualService, subset: $0.subset, weight: $0.weight) }
        if stopping() { return interrupted(&record, before: "diff") }

        // Diff.
        let report: DiffReport
        do {
            report = try await Differ(client: client).diff(
                rendered.objects, options: DiffOptions(fieldManager: fieldManager, ignore: settings.ignore, inventory: rendered.inventory))
        } catch {
            return failed(&record, step: "diff", error: "\(error)", log: log)
        }
        let pruneCandidates = report.count(.prune)
        let drift = report.objects.filter { $0.verdict != .inSync && ($0.verdict != .prune || settings.prune) }
        let gitMoved = previous.appliedRevision != fetched.commit
        guard !drift.isEmpty else {
            record.result = .synced
            record.appliedRevision = fetched.commit
            metrics.recordDrift(drifted: 0, environment: settings.name)
            if trigger != .interval || gitMoved { log.info("in sync", metadata: ["trigger": .string(trigger.rawValue)]) }
            return record
        }
        record.drifted = SyncRecord.drifted(from: drift)
        metrics.recordDrift(drifted: drift.count, environment: settings.name)
        // A manual change while git stood still is only reported under `drift.policy: report`.
        if !gitMoved && settings.drift == .report {
            record.result = .drifted
            log.notice(
                "drift reported, not corrected (drift.policy: report)",
                metadata: ["drifted": .string(drift.map(\.id).joined(separator: ", ")), "pruneCandidates": .stringConvertible(pruneCandidates)])
            return record
        }
        if stopping() { return interrupted(&record, before: "apply") }

        // Apply (prune behind the guard, never after a failure).
        let options = ApplyOptions(
            inventory: rendered.inventory, fieldManager: fieldManager, prune: settings.prune, forceConflicts: settings.drift == .correct,
            ignore: settings.ignore)
        let applied: ApplyReport
        do {
            applied = try await Applier(client: client).apply(rendered.objects, options: options)
        } catch {
            return failed(&record, step: "apply", error: "\(error)", log: log)
        }
        record.created = applied.count(.created)
        record.configured = applied.count(.configured)
        record.pruned = applied.count(.deleted)
        record.failed = applied.count(.failed)
        record.writes = applied.writes
        record.changes = applied.results.compactMap { r in
            let reason: String
            switch r.action {
            case .created: reason = "Created"
            case .configured: reason = "Configured"
            case .deleted: reason = "Pruned"
            case .failed: reason = "ApplyFailed"
            default: return nil
            }
            return SyncRecord.Change(apiVersion: r.apiVersion, kind: r.kind, namespace: r.namespace, name: r.name, reason: reason)
        }
        metrics.recordApply(applied, environment: settings.name)
        if applied.succeeded {
            record.result = .synced
            record.appliedRevision = fetched.commit
            record.drifted = []
            metrics.recordDrift(drifted: 0, environment: settings.name)
            log.info(
                "applied",
                metadata: [
                    "trigger": .string(trigger.rawValue), "created": .stringConvertible(record.created),
                    "configured": .stringConvertible(record.configured), "pruned": .stringConvertible(record.pruned),
                    "writes": .stringConvertible(applied.writes),
                ])
        } else {
            let failures = applied.results.filter { $0.action == .failed }.map { "\($0.reference): \($0.message ?? "failed")" }
            record.result = .failed
            record.message = (failures + [applied.pruneSkipped].compactMap { $0 }).joined(separator: "; ")
            log.error("apply failed", metadata: ["problems": .string(record.message ?? "")])
        }
        return record
    }

    private func failed(_ record: inout SyncRecord, step: String, error: String, log: Logger) -> SyncRecord {
        record.result = .failed
        record.message = "\(step): \(error)"
        log.error("\(step) failed; the cluster keeps revision \(record.appliedRevision.map { String($0.prefix(12)) } ?? "(none applied yet)")", metadata: ["error": .string(error)])
        return record
    }

    private func interrupted(_ record: inout SyncRecord, before step: String) -> SyncRecord {
        record.result = .pending
        record.interrupted = "stopped before \(step): revision \(record.revision.map { String($0.prefix(12)) } ?? "?") not applied"
        logger.notice("\(record.interrupted ?? "")")
        return record
    }
}
