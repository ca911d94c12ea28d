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
            let entries = (live[path: ["metadata", "managedFields"]]?.listValue ?? []).compactMap(ManagedFieldsEntry.init)
            plan.managers = entries.map(\.manager).filter { $0 != fieldManager }
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
            var labels = live[path: ["metadata", "labels"]]?.mapValue ?? [:]
            var annotations = live[path: ["metadata", "annotations"]]?.mapValue ?? [:]
            let tools = tool.map { [$0] } ?? PreviousTool.allCases
            plan.bookkeeping = labels.keys.filter { l in tools.contains { $0.isBookkeeping(label: l) } }.map { "label \($0)" }
                + annotations.keys.filter { a in tools.contains { $0.isBookkeeping(annotation: a) } }.map { "annotation \($0)" }
            // The fields git declares leave every other manager; the rest stays theirs.
            var moved: [String: [String]] = [:]
            var newEntries: [ManagedFieldsEntry] = []
            var ours = FieldSet(paths: gitFields.paths)
            let lastAppliedPath: FieldPath = [.field("metadata"), .field("annotations"), .field(Self.lastApplied)]
            for var entry in entries {
                if entry.manager == fieldManager && entry.operation == "Apply" {
                    ours.paths.formUnion(entry.fields.paths)
                    continue
                }
                let taken = entry.fields.paths.intersection(gitFields.paths)
                if !taken.isEmpty { moved[entry.manager, default: []] += taken.map(PathElement.describe).sorted() }
                entry.fields.remove(gitFields)
                entry.fields.paths.remove(lastAppliedPath)
                if !entry.fields.isEmpty { newEntries.append(entry) }
            }
            plan.moving = moved
            let needsLabel = labels[Inventory.partOfLabel]?.stringValue != inventory.id
            let hasLastApplied = annotations[Self.lastApplied] != nil
            plan.lastApplied = hasLastApplied
            let removable = removeBookkeeping ? plan.bookkeeping : []
            guard needsLabel || !moved.isEmpty || hasLastApplied || !removable.isEmpty else {
                plans.append(plan)
                continue
            }
            plan.action = "adopt"
            plans.append(plan)
            if dryRun { continue }

            // One write: the label, the bookkeeping removed, the ownership moved.
            labels[Inventory.partOfLabel] = .string(inventory.id)
            annotations[Self.lastApplied] = nil
            for mark in removable {
                if mark.hasPrefix("label ") { labels[String(mark.dropFirst(6))] = nil } else { annotations[String(mark.dropFirst(11))] = nil }
            }
            let applyEntry = ManagedFieldsEntry(
                manager: fieldManager, operation: "Apply", apiVersion: object.apiVersion, time: Self.now(), subresource: nil,
                fields: FieldSet(paths: ours.paths.union([[.field("metadata"), .field("labels"), .field(Inventory.partOfLabel)]])))
            var operations: [Value] = [
                ["op": "test", "path": "/metadata/resourceVersion", "value": live[path: ["metadata", "resourceVersion"]] ?? .null],
                ["op": "add", "path": "/metadata/labels", "value": .map(labels)],
                ["op": "add", "path": "/metadata/managedFields", "value": .list([applyEntry.value] + newEntries.map(\.value))],
            ]
            if !annotations.isEmpty {
                operations.append(["op": "add", "path": "/metadata/annotations", "value": .map(annotations)])
            } else if live[path: ["metadata", "annotations"]] != nil {
                operations.append(["op": "remove", "path": "/metadata/annotations"])
            }
            do {
                let resource = try await client.resource(apiVersion: object.apiVersion, kind: object.kind)
                _ = try await client.patch(
                    resource, namespace: object.namespace, name: object.name, patch: .list(operations), type: "application/json-patch+json",
                    fieldManager: fieldManager)
                writes += 1
            } catch {
                throw .kube(error)
            }
        }
        return Report(plans: plans, writes: writes)
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
