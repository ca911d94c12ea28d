import Foundation
import TaiCore
import TaiKube
import TaiSSA

/// What an object's comparison found.
public enum Verdict: String, Sendable, Codable {
    case inSync = "in-sync"
    case drifted
    case create = "to-create"
    case prune = "to-prune"
    /// Equal to git, but not yet tai-gitops' (created by kubectl, Helm, Argo CD, Flux…): only the
    /// inventory label is missing. Adopting writes no value.
    case adopt = "to-adopt"
}

/// Why a field differs.
public enum Cause: String, Sendable {
    /// tai-gitops applied the live value; the repository now says otherwise.
    case gitChanged = "git moved ahead"
    /// Someone else changed a field (another manager owns the live value).
    case clusterEdited = "the cluster was edited"
    /// tai-gitops applied this field before and the repository no longer has it.
    case removedFromGit = "removed from git"
    /// The field is not in the cluster yet.
    case added = "not in the cluster"
}

/// One field that an apply would change.
public struct FieldChange: Sendable {
    /// `spec.template.spec.containers[name=api].image`.
    public var path: String
    public var live: Value?
    public var desired: Value?
    /// The manager that last wrote the live value, when it wrote it, and how.
    public var manager: String?
    public var time: String?
    public var operation: String?
    public var subresource: String?
    public var cause: Cause
    /// A Secret value: printed as changed, never as text.
    public var sensitive: Bool
}

/// The comparison of one object.
public struct ObjectDiff: Sendable {
    public var apiVersion: String
    public var kind: String
    public var namespace: String?
    public var name: String
    public var verdict: Verdict
    public var changes: [FieldChange]
    /// The live object and what it would become, as compared (server metadata and status removed).
    public var live: Value?
    public var predicted: Value?
    /// The live object as read (managedFields included), when it exists.
    public var liveObject: Value?
    /// The desired object as compared (labelled, namespaced), for what applies it.
    public var desired: Value?
    /// An HPA or ScaledObject targets this workload: its replicas are the autoscaler's.
    public var autoscaled = false
    /// For an object to adopt: the field managers that wrote it so far.
    public var previousManagers: [String] = []

    public var id: String { "\(kind) \(namespace.map { $0 + "/" } ?? "")\(name)" }
}

/// The result of a diff run.
public struct DiffReport: Sendable {
    public var objects: [ObjectDiff]
    public var requests: Int
    public var seconds: Double
    /// The environment's inventory parent as found in the cluster.
    public var inventoryParent: Value?

    public func count(_ verdict: Verdict) -> Int { objects.filter { $0.verdict == verdict }.count }
    /// Whether something really differs (objects only to adopt do not count).
    public var hasDrift: Bool { objects.contains { $0.verdict != .inSync && $0.verdict != .adopt } }
}

/// Options of a diff.
public struct DiffOptions: Sendable {
    public var fieldManager: String
    /// Ask the server (dry-run apply) instead of computing from the live object's managed fields.
    public var serverSide: Bool
    public var ignore: [IgnoreRule]
    public var inventory: Inventory?

    public init(fieldManager: String = "tai-gitops", serverSide: Bool = false, ignore: [IgnoreRule] = [], inventory: Inventory? = nil) {
        self.fieldManager = fieldManager
        self.serverSide = serverSide
        self.ignore = ignore
        self.inventory = inventory
    }
}

/// Computes drift: an object has drifted when a server-side apply of the desired object by
/// tai-gitops' field manager would change the live object.
public struct Differ: Sendable {
    public let client: KubeClient
    let schema = KubeSchema.builtin

    public init(client: KubeClient) { self.client = client }

    struct Item {
        var desired: Value
        var resource: APIResource
        var namespace: String?
        var name: String
    }

    public func diff(_ desiredObjects: [Value], options: DiffOptions) async throws(DiffError) -> DiffReport {
        let start = ContinuousClock.now
        let requestsBefore = client.requestCount
        // Resolve each desired object's resource (CRDs in the same set may not be installed yet).
        var items: [Item] = []
        var pendingCRDKinds: Set<String> = []
        for object in desiredObjects where object["kind"] == "CustomResourceDefinition" {
            if let group = object[path: ["spec", "group"]]?.stringValue, let kind = object[path: ["spec", "names", "kind"]]?.stringValue {
                pendingCRDKinds.insert("\(group)/\(kind)")
            }
        }
        var report: [ObjectDiff] = []
        struct TypeKey: Hashable {
            var apiVersion: String
            var kind: String
        }
        var resolved: [TypeKey: APIResource] = [:]
        for var object in desiredObjects {
            let apiVersion = object["apiVersion"]?.stringValue ?? ""
            let kind = object["kind"]?.stringValue ?? ""
            let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
            let resource: APIResource
            do {
                if let known = resolved[TypeKey(apiVersion: apiVersion, kind: kind)] {
                    resource = known
                } else {
                    resource = try await client.resource(apiVersion: apiVersion, kind: kind)
                    resolved[TypeKey(apiVersion: apiVersion, kind: kind)] = resource
                }
            } catch {
                let group = GroupVersionKind(apiVersion: apiVersion, kind: "").group
                if case .unknownKind = error, pendingCRDKinds.contains("\(group)/\(kind)") {
                    if let inventory = options.inventory { object = inventory.labelled(object) }
                    var pending = ObjectDiff(apiVersion: apiVersion, kind: kind, namespace: object[path: ["metadata", "namespace"]]?.stringValue, name: name, verdict: .create, changes: [], live: nil, predicted: object)
                    pending.desired = object
                    report.append(pending)
                    continue
                }
                throw .kube(error)
            }
            var namespace: String?
            if resource.namespaced {
                if let declared = object[path: ["metadata", "namespace"]]?.stringValue {
                    namespace = declared
                } else {
                    namespace = client.config.namespace
                    object.set(path: ["metadata", "namespace"], to: .string(client.config.namespace))
                }
            }
            if let inventory = options.inventory { object = inventory.labelled(object) }
            items.append(Item(desired: object, resource: resource, namespace: namespace, name: name))
        }

        // One LIST per kind and namespace.
        var groups: [String: (APIResource, String?)] = [:]
        // Keyed by group and kind (not version): one LIST however many versions a CRD serves.
        func groupKey(_ r: APIResource, _ ns: String?) -> String { "\(r.group)/\(r.kind)/\(ns ?? "")" }
        for item in items where groups[groupKey(item.resource, item.namespace)] == nil { groups[groupKey(item.resource, item.namespace)] = (item.resource, item.namespace) }
        let autoscalerNamespaces = Set(items.compactMap(\.namespace))
        var autoscalerKinds: [APIResource] = []
        for (apiVersion, kind) in [("autoscaling/v2", "HorizontalPodAutoscaler"), ("keda.sh/v1alpha1", "ScaledObject")] {
            if let r = try? await client.resource(apiVersion: apiVersion, kind: kind) { autoscalerKinds.append(r) }
        }
        for resource in autoscalerKinds {
            for ns in autoscalerNamespaces where groups[groupKey(resource, ns)] == nil { groups[groupKey(resource, ns)] = (resource, ns) }
        }
        // The inventory: its kinds and namespaces are listed too (members the environment dropped).
        var parent: Value?
        if let inventory = options.inventory {
            do {
                let cm = try await client.resource(apiVersion: "v1", kind: "ConfigMap")
                parent = try await client.get(cm, namespace: inventory.namespace, name: inventory.parentName)
            } catch {
                throw .kube(error)
            }
            if let parent {
                let kinds = (parent[path: ["metadata", "annotations", Inventory.groupKindsAnnotation]]?.stringValue ?? "").split(separator: ",").map(String.init)
                let extraNamespaces = (parent[path: ["metadata", "annotations", Inventory.namespacesAnnotation]]?.stringValue ?? "").split(separator: ",").map(String.init)
                let namespaces = Set([inventory.namespace] + extraNamespaces + items.compactMap(\.namespace))
                for gk in kinds {
                    let parts = gk.split(separator: ".", maxSplits: 1).map(String.init)
                    guard let resource = await client.resources(group: parts.count > 1 ? parts[1] : "", kind: parts[0]) else { continue }
                    if resource.namespaced {
                        for ns in namespaces where groups[groupKey(resource, ns)] == nil { groups[groupKey(resource, ns)] = (resource, ns) }
                    } else {
                        if groups[groupKey(resource, nil)] == nil { groups[groupKey(resource, nil)] = (resource, nil) }
                    }
                }
            }
        }
        let live = try await listAll(Array(groups.values))

        // Workloads whose replicas an autoscaler owns (declared in git or found in the cluster).
        var autoscaled: Set<String> = []
        let autoscalers = items.map(\.desired).filter { ["HorizontalPodAutoscaler", "ScaledObject"].contains($0["kind"]?.stringValue ?? "") }
            + live.values.flatMap { $0 }.filter { ["HorizontalPodAutoscaler", "ScaledObject"].contains($0["kind"]?.stringValue ?? "") }
        for scaler in autoscalers {
            guard let target = scaler[path: ["spec", "scaleTargetRef", "name"]]?.stringValue else { continue }
            let kind = scaler[path: ["spec", "scaleTargetRef", "kind"]]?.stringValue ?? "Deployment"
            autoscaled.insert("\(kind)/\(scaler[path: ["metadata", "namespace"]]?.stringValue ?? "")/\(target)")
        }

        // Live objects by kind, namespace and name.
        var liveIndex: [String: Value] = [:]
        for (group, objects) in live {
            for object in objects { liveIndex[group + "/" + (object[path: ["metadata", "name"]]?.stringValue ?? "")] = object }
        }
        var desiredKeys: Set<String> = []
        var work: [(desired: Value, live: Value?, item: Item, autoscaled: Bool)] = []
        for item in items {
            desiredKeys.insert(Self.key(item.resource, item.namespace, item.name))
            var desired = IgnoreRule.strip(item.desired, rules: options.ignore)
            let liveObject = liveIndex["\(item.resource.group)/\(item.resource.kind)/\(item.namespace ?? "")/\(item.name)"]
            let isAutoscaled = autoscaled.contains("\(item.resource.kind)/\(item.namespace ?? "")/\(item.name)")
            if isAutoscaled {
                // The autoscaler's count stands: applying it unchanged keeps ownership without resetting it.
                if let replicas = liveObject?[path: ["spec", "replicas"]] { desired.set(path: ["spec", "replicas"], to: replicas) } else { desired["spec"]?["replicas"] = nil }
            }
            work.append((desired, liveObject, item, isAutoscaled))
        }
        // Objects are compared in parallel (bounded), results kept in input order.
        let differ = self
        let limit = max(client.settings.maxParallel, 1)
        let chunk = max(1, (work.count + limit - 1) / limit)
        do {
            let results = try await withThrowingTaskGroup(of: (Int, [ObjectDiff]).self) { group in
                for (index, start) in stride(from: 0, to: work.count, by: chunk).enumerated() {
                    let slice = Array(work[start..<min(start + chunk, work.count)])
                    group.addTask {
                        var out: [ObjectDiff] = []
                        for entry in slice {
                            var result = try await differ.compare(
                                desired: entry.desired, live: entry.live, resource: entry.item.resource, namespace: entry.item.namespace,
                                name: entry.item.name, options: options)
                            result.liveObject = entry.live
                            result.desired = entry.item.desired
                            result.autoscaled = entry.autoscaled
                            out.append(result)
                        }
                        return (index, out)
                    }
                }
                var parts: [(Int, [ObjectDiff])] = []
                for try await part in group { parts.append(part) }
                return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
            }
            report += results
        } catch let error as DiffError {
            throw error
        } catch {
            throw .input("\(error)")
        }

        if let inventory = options.inventory, parent != nil {
            report += pruneCandidates(inventory, live: live, groups: groups, desiredKeys: desiredKeys)
        }
        let elapsed = ContinuousClock.now - start
        return DiffReport(
            objects: report, requests: client.requestCount - requestsBefore,
            seconds: elapsed.inSeconds, inventoryParent: parent)
    }

    static func key(_ resource: APIResource, _ namespace: String?, _ name: String) -> String {
        "\(Inventory.groupKind(apiVersion: resource.apiVersion, kind: resource.kind))/\(namespace ?? "")/\(name)"
    }

    /// Lists the groups with bounded parallelism.
    private func listAll(_ groups: [(APIResource, String?)]) async throws(DiffError) -> [String: [Value]] {
        let client = self.client
        let limit = max(client.settings.maxParallel, 1)
        do {
            return try await withThrowingTaskGroup(of: (String, [Value]).self) { group in
                var results: [String: [Value]] = [:]
                var iterator = groups.makeIterator()
                func add(_ entry: (APIResource, String?)) {
                    let (resource, namespace) = entry
                    group.addTask {
                        let items = try await client.list(resource, namespace: namespace)
                        return ("\(resource.group)/\(resource.kind)/\(namespace ?? "")", items)
                    }
                }
                for _ in 0..<limit { if let next = iterator.next() { add(next) } }
                while let (key, items) = try await group.next() {
                    results[key] = items
                    if let next = iterator.next() { add(next) }
                }
                return results
            }
        } catch let error as KubeError {
            throw .kube(error)
        } catch {
            throw .input("\(error)")
        }
    }

    /// Members of the environment's inventory that the desired set no longer has.
    /// Listed objects labelled as members of the inventory that the desired set no longer has.
    private func pruneCandidates(_ inventory: Inventory, live: [String: [Value]], groups: [String: (APIResource, String?)], desiredKeys: Set<String>) -> [ObjectDiff] {
        var result: [ObjectDiff] = []
        for (key, objects) in live.sorted(by: { $0.key < $1.key }) {
            guard let (resource, _) = groups[key] else { continue }
            for member in objects where member[path: ["metadata", "labels", Inventory.partOfLabel]]?.stringValue == inventory.id {
                let name = member[path: ["metadata", "name"]]?.stringValue ?? ""
                let namespace = resource.namespaced ? member[path: ["metadata", "namespace"]]?.stringValue : nil
                guard !desiredKeys.contains(Self.key(resource, namespace, name)) else { continue }
                var candidate = ObjectDiff(
                    apiVersion: resource.apiVersion, kind: resource.kind, namespace: namespace, name: name, verdict: .prune,
                    changes: [], live: Self.comparable(member), predicted: nil)
                candidate.liveObject = member
                result.append(candidate)
            }
        }
        return result
    }

    private func compare(
        desired: Value, live: Value?, resource: APIResource, namespace: String?, name: String, options: DiffOptions
    ) async throws(DiffError) -> ObjectDiff {
        var diff = ObjectDiff(apiVersion: resource.apiVersion, kind: resource.kind, namespace: namespace, name: name, verdict: .inSync, changes: [], live: nil, predicted: nil)
        guard let live else {
            diff.verdict = .create
            diff.predicted = Self.comparable(desired)
            return diff
        }
        let type = ServerSideApply.typeRef(for: desired, schema: schema)
        let predicted: Value
        var removed: [FieldPath] = []
        if options.serverSide {
            do {
                predicted = try await client.apply(desired, fieldManager: options.fieldManager, force: true, dryRun: true)
            } catch {
                throw .kube(error)
            }
        } else {
            let outcome = ServerSideApply.apply(desired, to: live, manager: options.fieldManager, force: true, type: type, apiVersion: resource.apiVersion, time: "", detectConflicts: false)
            // The server defaults again after the merge: a removed field with a default comes back
            // as that default (dropping spec.replicas resets it to 1). Nothing else is defaulted
            // here: the live object already went through the server.
            var object = outcome.object
            var defaulted = object
            if !outcome.removed.isEmpty { Defaults.apply(&defaulted, allocateClusterIP: { "" }) }
            for path in outcome.removed {
                guard ServerSideApply.value(at: path, in: live, type: type) != nil else { continue }
                if let value = ServerSideApply.value(at: path, in: defaulted, type: type), case .field = path.last {
                    object.set(path: path.compactMap { if case .field(let f) = $0 { f } else { nil } }, to: value)
                    if path.contains(where: { if case .field = $0 { false } else { true } }) { continue }
                }
                removed.append(path)
            }
            predicted = object
        }
        // Most objects are in sync: check that without building the compared copies.
        if Self.sameContent(live, predicted) {
            diff.live = live
            diff.predicted = live
            return diff
        }
        let before = Self.comparable(live)
        let after = Self.comparable(predicted)
        diff.live = before
        diff.predicted = after
        guard before != after else { return diff }
        let changed = FieldSets.changed(from: before, to: after, type: type)
        let entries = (live[path: ["metadata", "managedFields"]]?.listValue ?? []).compactMap(ManagedFieldsEntry.init)
        let sensitive = resource.kind == "Secret" && resource.group.isEmpty
        for path in changed.paths.sorted(by: { PathElement.describe($0) < PathElement.describe($1) }) {
            if options.ignore.contains(where: { $0.covers(path, in: desired) }) { continue }
            let liveValue = ServerSideApply.value(at: path, in: before, type: type)
            let newValue = ServerSideApply.value(at: path, in: after, type: type)
            // Only leaves and whole items: a map whose children are listed too is not repeated.
            if Self.isMap(liveValue) && Self.isMap(newValue) { continue }
            let owner = Self.owner(of: path, entries: entries, preferNot: options.fieldManager)
            let cause: Cause
            if removed.contains(where: { $0 == path || path.starts(with: $0) }) || newValue == nil {
                cause = .removedFromGit
            } else if liveValue == nil {
                cause = .added
            } else if let owner, !(owner.manager == options.fieldManager && owner.operation == "Apply") {
                cause = .clusterEdited
            } else {
                cause = .gitChanged
            }
            diff.changes.append(FieldChange(
                path: Self.display(path), live: liveValue, desired: newValue, manager: owner?.manager, time: owner?.time.isEmpty == false ? owner?.time : nil,
                operation: owner?.operation, subresource: owner?.subresource, cause: cause, sensitive: sensitive && path.first == .field("data") || sensitive && path.first == .field("stringData")))
        }
        diff.verdict = diff.changes.isEmpty ? .inSync : .drifted
        if let inventory = options.inventory, !diff.changes.isEmpty,
            diff.changes.allSatisfy({
                $0.live == nil
                    && (($0.path == Self.inventoryLabelPath && $0.desired == .string(inventory.id))
                        || ($0.path == "metadata.labels" && $0.desired == .map([Inventory.partOfLabel: .string(inventory.id)])))
            })
        {
            diff.verdict = .adopt
            diff.previousManagers = Array(Set(entries.map(\.manager).filter { $0 != options.fieldManager })).sorted()
        }
        return diff
    }

    /// The inventory label as a change's path shows it.
    static let inventoryLabelPath = display([.field("metadata"), .field("labels"), .field(Inventory.partOfLabel)])

    /// Whether two versions of an object are equal as ``comparable(_:)`` would make them.
    static func sameContent(_ a: Value, _ b: Value) -> Bool {
        guard case .map(let x) = a, case .map(let y) = b else { return a == b }
        let skipped: Set<String> = ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"]
        for key in Set(x.keys).union(y.keys) where key != "status" {
            if key == "metadata" {
                guard case .map(let m) = x[key] ?? .emptyMap, case .map(let n) = y[key] ?? .emptyMap else { return false }
                for k in Set(m.keys).union(n.keys) where !skipped.contains(k) {
                    if !equalIgnoringNullTimestamps(m[k], n[k]) { return false }
                }
            } else if !equalIgnoringNullTimestamps(x[key], y[key]) {
                return false
            }
        }
        return true
    }

    static func equalIgnoringNullTimestamps(_ a: Value?, _ b: Value?) -> Bool {
        switch (a, b) {
        case (.map(let x)?, .map(let y)?):
            for key in Set(x.keys).union(y.keys) {
                let u = x[key], v = y[key]
                if key == "creationTimestamp", (u == nil || u == .null), (v == nil || v == .null) { continue }
                if !equalIgnoringNullTimestamps(u, v) { return false }
            }
            return true
        case (.list(let x)?, .list(let y)?):
            return x.count == y.count && zip(x, y).allSatisfy { equalIgnoringNullTimestamps($0, $1) }
        default:
            return a == b
        }
    }

    static func isMap(_ value: Value?) -> Bool {
        if case .map(let m)? = value { return !m.isEmpty }
        return false
    }

    /// The manager of a path: an entry owning it exactly, else the closest ancestor; another
    /// manager is preferred over our own when both own it.
    static func owner(of path: FieldPath, entries: [ManagedFieldsEntry], preferNot own: String) -> ManagedFieldsEntry? {
        var probe = path
        while !probe.isEmpty {
            let owners = entries.filter { $0.fields.contains(probe) }
            if let other = owners.first(where: { $0.manager != own }) ?? owners.first { return other }
            probe.removeLast()
        }
        return nil
    }

    /// `spec.template.spec.containers[name=api].image`.
    static func display(_ path: FieldPath) -> String {
        var out = ""
        for element in path {
            switch element {
            case .field(let name):
                if name.contains(".") || name.contains("/") || name.contains(" ") {
                    out += "[\"\(name)\"]"
                } else {
                    out += out.isEmpty ? name : "." + name
                }
            case .key(let json):
                let pairs = (try? JSON.parse(Array(json.utf8)))?.mapValue ?? [:]
                out += "[" + pairs.map { "\($0.key)=\($0.value.scalarText ?? JSON.serialize($0.value))" }.joined(separator: ",") + "]"
            case .value(let json): out += "[=\(json)]"
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }

    /// An object as compared: without status and what the server alone maintains. A null
    /// `creationTimestamp` in embedded metadata (pod and claim templates) is a serialisation
    /// artefact of the zero time (gone in Kubernetes 1.34), not a value.
    static func comparable(_ object: Value) -> Value {
        var object = withoutNullTimestamps(object)
        object["status"] = nil
        if case .map(var meta)? = object["metadata"] {
            for key in ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"] { meta[key] = nil }
            object["metadata"] = .map(meta)
        }
        return object
    }
}

func withoutNullTimestamps(_ value: Value) -> Value {
    // Most objects have none: leave them untouched rather than rebuild them.
    guard hasNullTimestamp(value) else { return value }
    switch value {
    case .map(var map):
        if map["creationTimestamp"] == .null { map["creationTimestamp"] = nil }
        for key in map.keys where key != "status" { map[key] = map[key].map(withoutNullTimestamps) }
        return .map(map)
    case .list(let items):
        return .list(items.map(withoutNullTimestamps))
    default:
        return value
    }
}

extension Value {
    /// The object with apiVersion, kind and metadata name/namespace taken from `other`.
    func settingIdentity(of other: Value) -> Value {
        var copy = self
        copy["apiVersion"] = other["apiVersion"] ?? .null
        copy["kind"] = other["kind"] ?? .null
        copy.set(path: ["metadata", "name"], to: other[path: ["metadata", "name"]] ?? .null)
        if let ns = other[path: ["metadata", "namespace"]] { copy.set(path: ["metadata", "namespace"], to: ns) }
        return copy
    }
}

private func hasNullTimestamp(_ value: Value) -> Bool {
    switch value {
    case .map(let map):
        if map["creationTimestamp"] == .null { return true }
        return map.contains { $0.key != "status" && hasNullTimestamp($0.value) }
    case .list(let items):
        return items.contains(where: hasNullTimestamp)
    default:
        return false
    }
}
