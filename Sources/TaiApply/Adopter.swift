import Foundation
public import TaiCore
public import TaiDiff
public import TaiKube
import TaiSSA

/// Takes over objects another tool made (kubectl, Helm, Argo CD, Flux) without writing a value:
/// each object equal to git gets the inventory label, and the fields git declares move from their
/// previous managers to tai-gitops' apply entry — kubectl's client-side-apply `Update` entry and
/// `last-applied-configuration` annotation included — so a field later removed from git is removed
/// from the cluster instead of staying behind, owned by nobody who will ever remove it.
public struct Adopter: Sendable {
    /// The tool that made the objects: its bookkeeping marks are named in the plan, and removed
    /// from the objects when asked.
    public enum PreviousTool: String, Sendable, CaseIterable {
        case helm, kubectl, argocd, flux

        /// Labels and annotations that are the tool's bookkeeping, not the application's.
        public func isBookkeeping(label: String) -> Bool {
            switch self {
            case .helm: label == "app.kubernetes.io/managed-by"
            case .argocd: label == "app.kubernetes.io/instance"
            case .flux: label.hasPrefix("kustomize.toolkit.fluxcd.io/")
            case .kubectl: false
            }
        }

        public func isBookkeeping(annotation: String) -> Bool {
            switch self {
            case .helm: annotation.hasPrefix("meta.helm.sh/")
            case .argocd: annotation == "argocd.argoproj.io/tracking-id"
            case .flux: annotation.hasPrefix("kustomize.toolkit.fluxcd.io/")
            case .kubectl: false  // its last-applied-configuration is always taken over
            }
        }
    }

    /// What adopting one object does.
    public struct Plan: Sendable {
        public var id: String
        /// `adopt`: label and move ownership; `owned`: already tai-gitops' (nothing to do);
        /// `drifted`: a value differs — that is drift, not adoption (nothing is written);
        /// `missing`: not in the cluster (apply creates it).
        public var action: String
        public var managers: [String]
        /// Per previous manager, the fields whose ownership moves to tai-gitops.
        public var moving: [String: [String]]
        /// Bookkeeping labels and annotations of the previous tool found on the object.
        public var bookkeeping: [String]
        /// kubectl's `last-applied-configuration` is on the object (adopting removes it).
        public var lastApplied: Bool
        /// For a drifted object, the values that would change.
        public var changes: [String]
    }

    public struct Report: Sendable {
        public var plans: [Plan]
        public var writes: Int
        public func count(_ action: String) -> Int { plans.filter { $0.action == action }.count }
    }

    public let client: KubeClient

    public init(client: KubeClient) { self.client = client }

    static let lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

    /// Plans the adoption of `objects` (rendered, not yet labelled) and, unless `dryRun`, carries it out.
    public func adopt(
        _ objects: [Value], inventory: Inventory, fieldManager: String = "tai-gitops", from tool: PreviousTool?,
        removeBookkeeping: Bool, ignore: [IgnoreRule] = [], dryRun: Bool
    ) async throws(DiffError) -> Report {
        let desired = objects.map(inventory.labelled)
        let diff = try await Differ(client: client).diff(desired, options: DiffOptions(fieldManager: fieldManager, ignore: ignore, inventory: inventory))
        let schema = KubeSchema.builtin
        var plans: [Plan] = []
        var writes = 0
        let byKey = Dictionary(desired.map { (Self.key($0), $0) }, uniquingKeysWith: { a, _ in a })
        for object in diff.objects where object.verdict != .prune {
            var plan = Plan(id: object.id, action: "owned", managers: [], moving: [:], bookkeeping: [], lastApplied: false, changes: [])
            let key = "\(object.apiVersion)|\(object.kind)|\(object.namespace ?? "")|\(object.name)"
            guard let live = object.liveObject, object.verdict != .create,
                let wanted = byKey[key] ?? byKey["\(object.apiVersion)|\(object.kind)||\(object.name)"]
            else {
                plan.action = "missing"
                plans.append(plan)
                continue
            }
            plan.managers = (live[path: ["metadata", "managedFields"]]?.listValue ?? []).compactMap(ManagedFieldsEntry.init)
                .map(\.manager).filter { $0 != fieldManager }
            if object.verdict == .drifted {
                plan.action = "drifted"
                plan.changes = object.changes.map { "\($0.path): \(Self.describe($0.live)) → \(Self.describe($0.desired))" }
                plans.append(plan)
                continue
            }
            let type = ServerSideApply.typeRef(for: wanted, schema: schema)
            var gitFields = FieldSets.of(ServerSideApply.trackable(wanted), type: type)
            // The replicas of an autoscaled workload stay the autoscaler's (as apply leaves them).
            if object.autoscaled { gitFields.paths.remove([.field("spec"), .field("replicas")]) }
            let tools = tool.map { [$0] } ?? PreviousTool.allCases
            let first = Self.takeover(live: live, gitFields: gitFields, fieldManager: fieldManager, tools: tools, removeBookkeeping: removeBookkeeping, inventory: inventory)
            plan.bookkeeping = first.bookkeeping
            plan.moving = first.moved
            plan.lastApplied = first.hadLastApplied
            guard first.needed else {
                plans.append(plan)
                continue
            }
            plan.action = "adopt"
            plans.append(plan)
            if dryRun { continue }

            // One write, guarded by the resourceVersion read; a controller writing in between
            // (status, a rollout annotation) makes it read the object again and retry.
            do {
                let resource = try await client.resource(apiVersion: object.apiVersion, kind: object.kind)
                var current = live
                var attempt = 0
                while true {
                    let takeover = Self.takeover(
                        live: current, gitFields: gitFields, fieldManager: fieldManager, tools: tools, removeBookkeeping: removeBookkeeping, inventory: inventory)
                    do {
                        _ = try await client.patch(
                            resource, namespace: object.namespace, name: object.name, patch: .list(takeover.operations(apiVersion: object.apiVersion, fieldManager: fieldManager)),
                            type: "application/json-patch+json", fieldManager: fieldManager)
                        writes += 1
                        break
                    } catch where attempt < 5 && (error.statusCode == 422 || error.isConflict) {
                        attempt += 1
                        guard let fresh = try await client.get(resource, namespace: object.namespace, name: object.name) else { break }
                        current = fresh
                    }
                }
            } catch {
                throw .kube(error)
            }
        }
        return Report(plans: plans, writes: writes)
    }

    /// How one live object is taken over: its new labels, annotations and managedFields.
    struct Takeover {
        var live: Value
        var labels: ValueMap
        var annotations: ValueMap
        var ours: FieldSet
        var others: [ManagedFieldsEntry]
        var moved: [String: [String]]
        var bookkeeping: [String]
        var hadLastApplied: Bool
        var needed: Bool

        /// The JSON patch: guarded by the resourceVersion, then labels, managedFields, annotations.
        func operations(apiVersion: String, fieldManager: String) -> [Value] {
            let applyEntry = ManagedFieldsEntry(
                manager: fieldManager, operation: "Apply", apiVersion: apiVersion, time: Adopter.now(), subresource: nil,
                fields: FieldSet(paths: ours.paths.union([[.field("metadata"), .field("labels"), .field(Inventory.partOfLabel)]])))
            var operations: [Value] = [
                ["op": "test", "path": "/metadata/resourceVersion", "value": live[path: ["metadata", "resourceVersion"]] ?? .null],
                ["op": "add", "path": "/metadata/labels", "value": .map(labels)],
                ["op": "add", "path": "/metadata/managedFields", "value": .list([applyEntry.value] + others.map(\.value))],
            ]
            if !annotations.isEmpty {
                operations.append(["op": "add", "path": "/metadata/annotations", "value": .map(annotations)])
            } else if live[path: ["metadata", "annotations"]] != nil {
                operations.append(["op": "remove", "path": "/metadata/annotations"])
            }
            return operations
        }
    }

    /// The fields git declares leave every other manager (the rest stays theirs); kubectl's
    /// last-applied-configuration goes; the previous tool's marks go when asked.
    static func takeover(
        live: Value, gitFields: FieldSet, fieldManager: String, tools: [PreviousTool], removeBookkeeping: Bool, inventory: Inventory
    ) -> Takeover {
        var labels = live[path: ["metadata", "labels"]]?.mapValue ?? [:]
        var annotations = live[path: ["metadata", "annotations"]]?.mapValue ?? [:]
        let bookkeeping = labels.keys.filter { l in tools.contains { $0.isBookkeeping(label: l) } }.map { "label \($0)" }
            + annotations.keys.filter { a in tools.contains { $0.isBookkeeping(annotation: a) } }.map { "annotation \($0)" }
        var moved: [String: [String]] = [:]
        var others: [ManagedFieldsEntry] = []
        var ours = FieldSet(paths: gitFields.paths)
        let lastAppliedPath: FieldPath = [.field("metadata"), .field("annotations"), .field(lastApplied)]
        for var entry in (live[path: ["metadata", "managedFields"]]?.listValue ?? []).compactMap(ManagedFieldsEntry.init) {
            if entry.manager == fieldManager && entry.operation == "Apply" {
                ours.paths.formUnion(entry.fields.paths)
                continue
            }
            let taken = entry.fields.paths.intersection(gitFields.paths)
            if !taken.isEmpty { moved[entry.manager, default: []] += taken.map(PathElement.describe).sorted() }
            entry.fields.remove(gitFields)
            entry.fields.paths.remove(lastAppliedPath)
            if !entry.fields.isEmpty { others.append(entry) }
        }
        let needsLabel = labels[Inventory.partOfLabel]?.stringValue != inventory.id
        let hadLastApplied = annotations[lastApplied] != nil
        let removable = removeBookkeeping ? bookkeeping : []
        labels[Inventory.partOfLabel] = .string(inventory.id)
        annotations[lastApplied] = nil
        for mark in removable {
            if mark.hasPrefix("label ") { labels[String(mark.dropFirst(6))] = nil } else { annotations[String(mark.dropFirst(11))] = nil }
        }
        return Takeover(
            live: live, labels: labels, annotations: annotations, ours: ours, others: others, moved: moved, bookkeeping: bookkeeping,
            hadLastApplied: hadLastApplied, needed: needsLabel || !moved.isEmpty || hadLastApplied || !removable.isEmpty)
    }

    static func describe(_ value: Value?) -> String {
        guard let value else { return "(none)" }
        return value.scalarText ?? JSON.serialize(value)
    }

    static func key(_ object: Value) -> String {
        "\(object["apiVersion"]?.stringValue ?? "")|\(object["kind"]?.stringValue ?? "")|\(object[path: ["metadata", "namespace"]]?.stringValue ?? "")|\(object.name ?? "")"
    }

    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}
