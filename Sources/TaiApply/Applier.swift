import Foundation
import Synchronization
import TaiCore
import TaiDiff
import TaiKube

/// What an apply does, and how carefully.
public struct ApplyOptions: Sendable {
    public var fieldManager: String
    /// Send every write with `dryRun=All`: nothing changes.
    public var dryRun: Bool
    /// Delete inventory members the environment no longer declares.
    public var prune: Bool
    /// Wait for every object to be healthy (rollouts done, claims bound, CRDs established).
    public var wait: Bool
    public var timeout: Duration
    /// Take over fields other managers own instead of failing on the conflict.
    public var forceConflicts: Bool
    /// Delete and recreate an object whose immutable fields changed.
    public var replaceImmutable: Bool
    /// The largest share of the inventory a prune may delete without `allowLargePrune`.
    public var maxPruneFraction: Double
    public var allowLargePrune: Bool
    /// Allow pruning Namespaces, PersistentVolumeClaims, StatefulSets and CRDs.
    public var allowDangerousPrune: Bool
    public var ignore: [IgnoreRule]
    public var inventory: Inventory

    public init(
        inventory: Inventory, fieldManager: String = "tai-gitops", dryRun: Bool = false, prune: Bool = false, wait: Bool = false,
        timeout: Duration = .seconds(300), forceConflicts: Bool = false, replaceImmutable: Bool = false, maxPruneFraction: Double = 0.25,
        allowLargePrune: Bool = false, allowDangerousPrune: Bool = false, ignore: [IgnoreRule] = []
    ) {
        self.inventory = inventory
        self.fieldManager = fieldManager
        self.dryRun = dryRun
        self.prune = prune
        self.wait = wait
        self.timeout = timeout
        self.forceConflicts = forceConflicts
        self.replaceImmutable = replaceImmutable
        self.maxPruneFraction = maxPruneFraction
        self.allowLargePrune = allowLargePrune
        self.allowDangerousPrune = allowDangerousPrune
        self.ignore = ignore
    }
}

/// What happened to one object.
public enum Action: String, Sendable {
    case created, configured, unchanged, deleted, skipped, failed
}

public struct ObjectResult: Sendable {
    public var apiVersion: String
    public var kind: String
    public var namespace: String?
    public var name: String
    public var action: Action
    public var message: String?
    public var health: Health?

    /// kubectl's way of naming it: `deployment.apps/tai-api`.
    public var reference: String {
        let group = GroupVersionKind(apiVersion: apiVersion, kind: "").group
        return "\(kind.lowercased())\(group.isEmpty ? "" : "." + group)/\(name)"
    }
}

/// The outcome of an apply run.
public struct ApplyReport: Sendable {
    public var results: [ObjectResult]
    /// Why a prune was not done (guard, failures), if it was wanted.
    public var pruneSkipped: String?
    public var writes: Int
    public var requests: Int
    public var seconds: Double

    public func count(_ action: Action) -> Int { results.filter { $0.action == action }.count }
    public var unhealthy: [ObjectResult] { results.filter { $0.health != nil && $0.health != .current } }
    public var succeeded: Bool { count(.failed) == 0 && pruneSkipped == nil && unhealthy.isEmpty }
}

/// Makes the cluster equal to the rendered environment: server-side apply of what differs, in
/// dependency order, prune by inventory behind a blast-radius guard, then health.
public struct Applier: Sendable {
    public let client: KubeClient

    public init(client: KubeClient) { self.client = client }

    public func apply(
        _ objects: [Value], options: ApplyOptions, progress: @escaping @Sendable (ObjectResult) -> Void = { _ in }
    ) async throws(DiffError) -> ApplyReport {
        let start = ContinuousClock.now
        let requestsBefore = client.requestCount
        let writes = Counter()
        let inventory = options.inventory
        let desired = objects.map(inventory.labelled)
        let diff = try await Differ(client: client).diff(
            desired, options: DiffOptions(fieldManager: options.fieldManager, ignore: options.ignore, inventory: inventory))
        var results: [ObjectResult] = []
        var failed = false

        // Namespaces this run creates (a dry run cannot validate objects in them).
        let creatingNamespaces = Set(diff.objects.filter { $0.kind == "Namespace" && $0.verdict == .create }.map(\.name))
        // Apply stage by stage; within a stage, in parallel.
        let byStage = Dictionary(grouping: diff.objects.filter { $0.verdict != .prune }) { Stage.of(apiVersion: $0.apiVersion, kind: $0.kind) }
        var parentWritten = false
        /// The inventory parent as it stands in the cluster (as read, or as this run last wrote it).
        var currentParent = diff.inventoryParent
        var applied: [ObjectResult] = []
        for stage in Stage.allCases {
            if stage > .namespaces && !parentWritten {
                // The inventory first lists everything it may hold (old and new kinds), so a run that
                // stops half way still knows what it owns.
                currentParent = try await writeParent(current: currentParent, desired: desired, options: options, union: true, writes: writes)
                parentWritten = true
            }
            guard let items = byStage[stage], !items.isEmpty else { continue }
            // A few workers take the stage's objects one after another (a task per object, each
            // handing its result back to this one, cost two task switches per object).
            // Results are printed as they come, and kept in the stage's order.
            let queue = WorkQueue(items)
            let stageResults = await withTaskGroup(of: [(Int, ObjectResult)].self) { group in
                for _ in 0..<min(max(client.settings.maxParallel, 1), items.count) {
                    group.addTask {
                        var done: [(Int, ObjectResult)] = []
                        while let (index, item) = queue.next() {
                            let result = await self.applyOne(item, options: options, writes: writes, creatingNamespaces: creatingNamespaces)
                            progress(result)
                            done.append((index, result))
                        }
                        return done
                    }
                }
                var out: [(Int, ObjectResult)] = []
                for await done in group { out += done }
                return out.sorted { $0.0 < $1.0 }.map(\.1)
            }
            results += stageResults
            applied += stageResults.filter { $0.action == .created || $0.action == .configured }
            if stageResults.contains(where: { $0.action == .failed }) { failed = true }
            let newCRDs = stageResults.filter { $0.action == .created || $0.action == .configured }
            if stage == .crds, !options.dryRun, !newCRDs.isEmpty {
                await waitForCRDs(newCRDs, timeout: options.timeout)
                try? await client.discover()  // the kinds these CRDs registered
            }
        }

        // Prune: only after a complete, successful apply, and within the guard.
        var pruneSkipped: String?
        let candidates = diff.objects.filter { $0.verdict == .prune }
        if options.prune && !candidates.isEmpty {
            if failed {
                pruneSkipped = "prune skipped: \(results.filter { $0.action == .failed }.count) object(s) failed to apply; nothing is deleted after a partial apply"
            } else if let refusal = guardPrune(candidates, inventorySize: candidates.count + desired.count, options: options) {
                pruneSkipped = refusal
            } else {
                for candidate in candidates.sorted(by: { Stage.of(apiVersion: $0.apiVersion, kind: $0.kind) > Stage.of(apiVersion: $1.apiVersion, kind: $1.kind) }) {
                    var result = ObjectResult(apiVersion: candidate.apiVersion, kind: candidate.kind, namespace: candidate.namespace, name: candidate.name, action: .deleted)
                    do {
                        let resource = try await client.resource(apiVersion: candidate.apiVersion, kind: candidate.kind)
                        if !options.dryRun { writes.add() }
                        try await client.delete(resource, namespace: candidate.namespace, name: candidate.name, dryRun: options.dryRun)
                    } catch {
                        result.action = .failed
                        result.message = "delete: \(error)"
                        failed = true
                    }
                    progress(result)
                    results.append(result)
                }
            }
        } else if !candidates.isEmpty {
            for candidate in candidates {
                let result = ObjectResult(
                    apiVersion: candidate.apiVersion, kind: candidate.kind, namespace: candidate.namespace, name: candidate.name, action: .skipped,
                    message: "no longer declared; --prune deletes it")
                progress(result)
                results.append(result)
            }
        }
        if !failed && pruneSkipped == nil && (options.prune || candidates.isEmpty) {
            _ = try await writeParent(current: currentParent, desired: desired, options: options, union: false, writes: writes)
        }

        if options.wait && !options.dryRun {
            results = await waitForHealth(results, timeout: options.timeout, progress: progress)
        }
        let elapsed = ContinuousClock.now - start
        return ApplyReport(
            results: results, pruneSkipped: pruneSkipped, writes: writes.value, requests: client.requestCount - requestsBefore,
            seconds: elapsed.inSeconds)
    }

    // MARK: One object

    private func applyOne(_ item: ObjectDiff, options: ApplyOptions, writes: Counter, creatingNamespaces: Set<String>) async -> ObjectResult {
        var result = ObjectResult(apiVersion: item.apiVersion, kind: item.kind, namespace: item.namespace, name: item.name, action: .unchanged)
        guard var object = item.desired else {
            result.action = .failed
            result.message = "no desired object"
            return result
        }
        // Ignored fields are left to whoever else manages them, once the object exists; a new
        // object is created whole.
        if item.verdict != .create { object = IgnoreRule.stripping(object, rules: options.ignore) }
        // An autoscaled workload's replicas are the autoscaler's: never applied. If tai-gitops owns
        // them from before, hand them over first, so that dropping them does not reset the count
        // (kubernetes/kubernetes#67135).
        var handover = false
        if item.autoscaled {
            if item.verdict == .create && !options.dryRun {
                // A new workload starts with the declared count; then the count is handed over.
                do {
                    writes.add()
                    try await client.applyDiscardingResult(object, fieldManager: options.fieldManager, force: options.forceConflicts)
                } catch {
                    result.action = .failed
                    result.message = describe(error, item: item, options: options)
                    return result
                }
            }
            let live = item.verdict == .create ? object : item.liveObject
            object["spec"]?["replicas"] = nil
            if let live, item.verdict == .create || Self.appliedReplicas(live, manager: options.fieldManager) {
                handover = true
                if !options.dryRun {
                    let keep: Value = [
                        "apiVersion": .string(item.apiVersion), "kind": .string(item.kind),
                        "metadata": ["name": .string(item.name), "namespace": .string(item.namespace ?? "default")],
                        "spec": ["replicas": live[path: ["spec", "replicas"]] ?? 1],
                    ]
                    do {
                        writes.add()
                        try await client.applyDiscardingResult(keep, fieldManager: options.fieldManager + "-handover", force: true)
                    } catch {
                        result.action = .failed
                        result.message = "handing spec.replicas over to the autoscaler: \(error)"
                        return result
                    }
                }
            }
        }
        guard item.verdict != .inSync || handover else { return result }
        do {
            if !options.dryRun { writes.add() }
            try await client.applyDiscardingResult(object, fieldManager: options.fieldManager, force: options.forceConflicts, dryRun: options.dryRun)
            result.action = item.verdict == .create ? .created : .configured
            if handover && item.verdict != .create { result.message = "spec.replicas handed over to the autoscaler" }
        } catch {
            if options.dryRun, case .api(404, _, let message, _) = error, let ns = item.namespace, creatingNamespaces.contains(ns),
                message.contains("namespaces \"\(ns)\" not found")
            {
                result.action = item.verdict == .create ? .created : .configured
                result.message = "not validated by the server: its namespace is created by this run"
                return result
            }
            result.action = .failed
            result.message = describe(error, item: item, options: options)
            if case .api(422, _, let message, _) = error, Self.isImmutable(message), options.replaceImmutable, !options.dryRun {
                do {
                    let resource = try await client.resource(apiVersion: item.apiVersion, kind: item.kind)
                    writes.add()
                    try await client.delete(resource, namespace: item.namespace, name: item.name)
                    try await waitGone(resource, namespace: item.namespace, name: item.name)
                    writes.add()
                    try await client.applyDiscardingResult(object, fieldManager: options.fieldManager, force: options.forceConflicts)
                    result.action = .configured
                    result.message = "replaced: immutable fields changed (\(Self.immutableField(message)))"
                } catch {
                    result.message = "replacing after an immutable-field change failed: \(error)"
                }
            }
        }
        return result
    }

    static func appliedReplicas(_ live: Value, manager: String) -> Bool {
        (live[path: ["metadata", "managedFields"]]?.listValue ?? []).contains { entry in
            entry["manager"]?.stringValue == manager && entry["operation"] == "Apply"
                && entry[path: ["fieldsV1", "f:spec", "f:replicas"]] != nil
        }
    }

    static func isImmutable(_ message: String) -> Bool {
        message.contains("field is immutable") || message.contains("updates to statefulset spec for fields other than") || message.contains("is immutable after creation")
    }

    /// `spec.selector` from `Deployment.apps "web" is invalid: spec.selector: Invalid value: …`.
    static func immutableField(_ message: String) -> String {
        guard let range = message.range(of: " is invalid: ") else { return message }
        let rest = message[range.upperBound...]
        return String(rest.prefix { $0 != ":" })
    }

    private func describe(_ error: KubeError, item: ObjectDiff, options: ApplyOptions) -> String {
        switch error {
        case .api(409, _, let message, _):
            return "\(message) — another field manager owns these fields; --force-conflicts takes them over"
        case .api(422, _, let message, _) where Self.isImmutable(message):
            return "immutable field \(Self.immutableField(message)) changed: \(message) — --replace-immutable deletes and recreates the object"
        default:
            return error.description
        }
    }

    private func waitGone(_ resource: APIResource, namespace: String?, name: String) async throws(KubeError) {
        for _ in 0..<600 {
            if try await client.get(resource, namespace: namespace, name: name) == nil { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    // MARK: Inventory and prune

    /// Writes the inventory parent listing the desired kinds and namespaces (with `union`, also
    /// those `current` lists), unless `current` already says exactly that. Returns the parent as
    /// it now stands.
    private func writeParent(current: Value?, desired: [Value], options: ApplyOptions, union: Bool, writes: Counter) async throws(DiffError) -> Value? {
        var kinds = Set(desired.map { Inventory.groupKind(apiVersion: $0["apiVersion"]?.stringValue ?? "", kind: $0["kind"]?.stringValue ?? "") })
        var namespaces = Set(desired.compactMap { $0[path: ["metadata", "namespace"]]?.stringValue })
        if union, let current {
            kinds.formUnion((current[path: ["metadata", "annotations", Inventory.groupKindsAnnotation]]?.stringValue ?? "").split(separator: ",").map(String.init))
            namespaces.formUnion((current[path: ["metadata", "annotations", Inventory.namespacesAnnotation]]?.stringValue ?? "").split(separator: ",").map(String.init))
        }
        let parent = options.inventory.parent(groupKinds: Array(kinds), namespaces: Array(namespaces))
        if let current,
            current[path: ["metadata", "annotations", Inventory.groupKindsAnnotation]] == parent[path: ["metadata", "annotations", Inventory.groupKindsAnnotation]],
            current[path: ["metadata", "annotations", Inventory.namespacesAnnotation]] == parent[path: ["metadata", "annotations", Inventory.namespacesAnnotation]]
        {
            return current
        }
        do {
            if !options.dryRun { writes.add() }
            try await client.applyDiscardingResult(parent, fieldManager: options.fieldManager, force: true, dryRun: options.dryRun)
            return options.dryRun ? current : parent
        } catch {
            if options.dryRun, case .api(404, _, _, _) = error { return current }  // its namespace is only created by this run
            throw .kube(error)
        }
    }

    private func guardPrune(_ candidates: [ObjectDiff], inventorySize: Int, options: ApplyOptions) -> String? {
        let dangerous = candidates.filter { ["Namespace", "PersistentVolumeClaim", "StatefulSet", "CustomResourceDefinition"].contains($0.kind) }
        if !dangerous.isEmpty && !options.allowDangerousPrune {
            return "prune refused: it would delete \(dangerous.map(\.id).joined(separator: ", ")) (Namespaces, PersistentVolumeClaims, StatefulSets and CRDs hold data); --allow-dangerous-prune permits it"
        }
        let share = inventorySize == 0 ? 0 : Double(candidates.count) / Double(inventorySize)
        if share > options.maxPruneFraction && !options.allowLargePrune {
            return "prune refused: it would delete \(candidates.count) of \(inventorySize) inventory objects (\(Int(share * 100))% > \(Int(options.maxPruneFraction * 100))%); --allow-large-prune permits it"
        }
        return nil
    }

    // MARK: Health

    private func waitForCRDs(_ results: [ObjectResult], timeout: Duration) async {
        guard let resource = try? await client.resource(apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition") else { return }
        let deadline = ContinuousClock.now + timeout
        for result in results {
            while ContinuousClock.now < deadline {
                if let crd = try? await client.get(resource, namespace: nil, name: result.name), Health.of(crd).0 == .current { break }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    private func waitForHealth(_ results: [ObjectResult], timeout: Duration, progress: @Sendable (ObjectResult) -> Void) async -> [ObjectResult] {
        var results = results
        let watched = results.indices.filter { results[$0].action != .failed && results[$0].action != .deleted && results[$0].action != .skipped }
        let deadline = ContinuousClock.now + timeout
        var pending = Set(watched)
        var last: [Int: (Health, String?)] = [:]
        while !pending.isEmpty {
            for index in pending.sorted() {
                let r = results[index]
                guard let resource = try? await client.resource(apiVersion: r.apiVersion, kind: r.kind),
                    let live = try? await client.get(resource, namespace: r.namespace, name: r.name)
                else { continue }
                let (health, reason) = Health.of(live)
                last[index] = (health, reason)
                if health != .inProgress {
                    results[index].health = health
                    if health == .failed { results[index].message = reason }
                    pending.remove(index)
                    if health == .failed || Self.interesting(r.kind) { progress(results[index]) }
                }
            }
            if pending.isEmpty || ContinuousClock.now >= deadline { break }
            try? await Task.sleep(for: .milliseconds(250))
        }
        for index in pending {
            results[index].health = .inProgress
            results[index].message = "not ready after the timeout: \(last[index]?.1 ?? "no status")"
            progress(results[index])
        }
        return results
    }

    static func interesting(_ kind: String) -> Bool {
        ["Deployment", "StatefulSet", "DaemonSet", "Job", "PersistentVolumeClaim", "CustomResourceDefinition"].contains(kind)
    }
}

/// Hands out a list's elements, each once, to concurrent workers.
final class WorkQueue<Element: Sendable>: Sendable {
    private let state: Mutex<(items: [Element], next: Int)>

    init(_ items: [Element]) { state = Mutex((items, 0)) }

    /// The next element and its position, or nil when all were handed out.
    func next() -> (Int, Element)? {
        state.withLock { state in
            guard state.next < state.items.count else { return nil }
            defer { state.next += 1 }
            return (state.next, state.items[state.next])
        }
    }
}

/// A thread-safe counter.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

