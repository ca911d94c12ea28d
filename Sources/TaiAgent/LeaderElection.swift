import Foundation
import Logging
import Synchronization
import TaiCore
public import TaiKube

/// Leader election through a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
/// the holder renews the lease every retry period; a candidate takes it over once it has seen
/// the same record unchanged for a whole lease duration (by its own clock, so clocks need not
/// agree); a leader that cannot renew within the renew deadline steps down; a leader that
/// stops releases the lease so a standby takes over at once.
public final class LeaderElector: Sendable {
    public struct Timing: Sendable {
        public var leaseDuration: Duration
        public var renewDeadline: Duration
        public var retryPeriod: Duration

        public init(leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2)) {
            self.leaseDuration = leaseDuration
            self.renewDeadline = renewDeadline
            self.retryPeriod = retryPeriod
        }
    }

    public let client: KubeClient
    public let namespace: String
    public let name: String
    public let identity: String
    public let timing: Timing
    let logger: Logger
    let metrics: AgentMetrics

    private struct State {
        var leading = false
        var lastRenew: ContinuousClock.Instant?
        /// The record last seen (holder, renew time) and when it was first seen so.
        var observed: (record: String, at: ContinuousClock.Instant)?
    }
    private let state = Mutex(State())

    init(client: KubeClient, namespace: String, name: String, identity: String, timing: Timing, logger: Logger, metrics: AgentMetrics) {
        self.client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timing = timing
        self.logger = logger
        self.metrics = metrics
    }

    /// Whether this replica holds the lease now.
    public var isLeader: Bool { state.withLock { $0.leading } }

    /// Tries to acquire or renew until cancelled, calling `onChange` after the first round and
    /// whenever leadership changes.
    func run(onChange: @Sendable (Bool) async -> Void) async {
        metrics.recordLeader(false, lease: name)
        var first = true
        while !Task.isCancelled {
            let wasLeading = isLeader
            let acquired = await tryAcquireOrRenew()
            let now = ContinuousClock.now
            let leading: Bool = state.withLock { s in
                if acquired {
                    s.lastRenew = now
                    s.leading = true
                } else if s.leading, let last = s.lastRenew, now - last > timing.renewDeadline {
                    s.leading = false
                } else if !s.leading {
                    s.leading = false
                }
                return s.leading
            }
            if leading != wasLeading {
                logger.notice(leading ? "became the leader (lease \(namespace)/\(name))" : "lost the lease \(namespace)/\(name)")
                metrics.recordLeader(leading, lease: name)
                await onChange(leading)
            } else if first {
                logger.notice("standing by: another replica holds the lease \(namespace)/\(name)")
                await onChange(leading)
            }
            first = false
            try? await Task.sleep(for: timing.retryPeriod)
        }
    }

    /// Gives the lease up (on shutdown), so a standby need not wait for it to expire.
    func release() async {
        guard isLeader else { return }
        state.withLock { $0.leading = false }
        metrics.recordLeader(false, lease: name)
        guard let resource = try? await leaseResource(), let lease = try? await client.get(resource, namespace: namespace, name: name),
            lease[path: ["spec", "holderIdentity"]]?.stringValue == identity
        else { return }
        var released = lease
        released.set(path: ["spec", "holderIdentity"], to: .string(""))
        released.set(path: ["spec", "leaseDurationSeconds"], to: .int(1))
        released.set(path: ["spec", "renewTime"], to: .string(Self.microTime(Date())))
        _ = try? await client.send(
            .put, resource.objectPath(namespace: namespace, name: name), body: JSON.serializeBytes(released))
        logger.notice("released the lease \(namespace)/\(name)")
    }

    private func leaseResource() async throws(KubeError) -> APIResource {
        try await client.resource(apiVersion: "coordination.k8s.io/v1", kind: "Lease")
    }

    /// One round: true when this replica holds the lease afterwards.
    private func tryAcquireOrRenew() async -> Bool {
        do {
            let resource = try await leaseResource()
            let now = Date()
            let seconds = Int(timing.leaseDuration.components.seconds)
            guard let lease = try await client.get(resource, namespace: namespace, name: name) else {
                let created: Value = [
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": ["name": .string(name), "namespace": .string(namespace)],
                    "spec": [
                        "holderIdentity": .string(identity), "leaseDurationSeconds": .int(seconds),
                        "acquireTime": .string(Self.microTime(now)), "renewTime": .string(Self.microTime(now)), "leaseTransitions": 0,
                    ],
                ]
                _ = try await client.create(created, fieldManager: "tai-gitops-leader-election")
                return true
            }
            let holder = lease[path: ["spec", "holderIdentity"]]?.stringValue ?? ""
            let record = holder + "|" + (lease[path: ["spec", "renewTime"]]?.stringValue ?? "")
            let duration = Duration.seconds(lease[path: ["spec", "leaseDurationSeconds"]]?.intValue ?? seconds)
            let observedAt: ContinuousClock.Instant = state.withLock { s in
                if s.observed?.record != record { s.observed = (record, .now) }
                return s.observed?.at ?? .now
            }
            if !holder.isEmpty, holder != identity, ContinuousClock.now - observedAt < duration {
                return false
            }
            var updated = lease
            updated.set(path: ["spec", "holderIdentity"], to: .string(identity))
            updated.set(path: ["spec", "leaseDurationSeconds"], to: .int(seconds))
            updated.set(path: ["spec", "renewTime"], to: .string(Self.microTime(now)))
            if holder != identity {
                updated.set(path: ["spec", "acquireTime"], to: .string(Self.microTime(now)))
                updated.set(path: ["spec", "leaseTransitions"], to: .int((lease[path: ["spec", "leaseTransitions"]]?.intValue ?? 0) + 1))
            }
            // The resourceVersion read makes this a compare-and-swap: another replica's write in
            // between fails it with a conflict.
            _ = try await client.send(.put, resource.objectPath(namespace: namespace, name: name), body: JSON.serializeBytes(updated))
            return true
        } catch {
            // A conflict only means another replica wrote first.
            if (error as? KubeError)?.isConflict != true { logger.warning("lease \(namespace)/\(name): \(error)") }
            return false
        }
    }

    static func microTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"
        return formatter.string(from: date)
    }
}
