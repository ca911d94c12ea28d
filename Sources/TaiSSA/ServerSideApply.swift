import Foundation
import OrderedCollections
import TaiCore

/// One `metadata.managedFields` entry.
public struct ManagedFieldsEntry: Sendable, Equatable {
    public var manager: String
    public var operation: String
    public var apiVersion: String
    public var time: String
    public var subresource: String?
    public var fields: FieldSet

    public init(manager: String, operation: String, apiVersion: String, time: String, subresource: String?, fields: FieldSet) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.subresource = subresource
        self.fields = fields
    }

    public init?(_ value: Value) {
        guard let manager = value["manager"]?.stringValue, let operation = value["operation"]?.stringValue else { return nil }
        self.manager = manager
        self.operation = operation
        apiVersion = value["apiVersion"]?.stringValue ?? ""
        time = value["time"]?.stringValue ?? ""
        subresource = value["subresource"]?.stringValue
        fields = FieldSet(fieldsV1: value["fieldsV1"] ?? .map([:]))
    }

    public var value: Value {
        Self.value(manager: manager, operation: operation, apiVersion: apiVersion, time: time, subresource: subresource, fieldsV1: fields.encoded())
    }

    /// An entry as stored in `metadata.managedFields`, from its parts.
    public static func value(manager: String, operation: String, apiVersion: String, time: String, subresource: String?, fieldsV1: Value) -> Value {
        var map = ValueMap()
        map["apiVersion"] = .string(apiVersion)
        map["fieldsType"] = "FieldsV1"
        map["fieldsV1"] = fieldsV1
        map["manager"] = .string(manager)
        map["operation"] = .string(operation)
        if let subresource { map["subresource"] = .string(subresource) }
        map["time"] = .string(time)
        return .map(map)
    }

    /// Apply entries are one per manager (and subresource); Update entries per manager, version and subresource.
    public func sameIdentity(manager: String, operation: String, apiVersion: String, subresource: String?) -> Bool {
        guard self.manager == manager, self.operation == operation, self.subresource == subresource else { return false }
        return operation == "Apply" || self.apiVersion == apiVersion
    }

    /// How a conflict message names the manager.
    public var conflictName: String {
        var name = "\"\(manager)\""
        if operation == "Update" {
            name += " using \(apiVersion)"
            if !time.isEmpty { name += " at \(time)" }
        }
        if let subresource { name += " with subresource \"\(subresource)\"" }
        return name
    }
}

/// A conflict with other managers found by an apply.
public struct ApplyConflict: Error, Sendable {
    public var conflicts: [(manager: ManagedFieldsEntry, path: FieldPath)]

    public init(conflicts: [(manager: ManagedFieldsEntry, path: FieldPath)]) { self.conflicts = conflicts }

    /// kube-apiserver's message.
    public var message: String {
        var byManager: OrderedDictionary<String, [String]> = [:]
        for (manager, path) in conflicts.sorted(by: { ($0.manager.manager, PathElement.describe($0.path)) < ($1.manager.manager, PathElement.describe($1.path)) }) {
            byManager[manager.conflictName, default: []].append(PathElement.describe(path))
        }
        if conflicts.count == 1, let (name, paths) = byManager.elements.first {
            return "Apply failed with 1 conflict: conflict with \(name): \(paths[0])"
        }
        var text = "Apply failed with \(conflicts.count) conflicts: "
        text += byManager.map { name, paths in "conflicts with \(name):\n" + paths.map { "- " + $0 }.joined(separator: "\n") }.joined(separator: "\n")
        return text
    }

    public var causes: [Value] {
        conflicts.map { manager, path in
            .map([
                "reason": "FieldManagerConflict",
                "message": .string("conflict with \(manager.conflictName)"),
                "field": .string(PathElement.describe(path)),
            ])
        }
    }
}

/// Server-side apply and field ownership, as kube-apiserver does it (structured-merge-diff).
public enum ServerSideApply {
    public static let untracked: Set<String> = [
        "apiVersion", "kind",
    ]
    public static let untrackedMetadata: Set<String> = [
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "generation", "managedFields", "resourceVersion",
        "deletionTimestamp", "deletionGracePeriodSeconds",
    ]

    /// The object without what managed fields never track.
    public static func trackable(_ object: Value) -> Value {
        guard case .map(var map) = object else { return object }
        for key in untracked { map[key] = nil }
        if case .map(var meta)? = map["metadata"] {
            for key in untrackedMetadata { meta[key] = nil }
            map["metadata"] = meta.isEmpty ? nil : .map(meta)
        }
        return .map(map)
    }

    public static func typeRef(for object: Value, schema: KubeSchema) -> TypeRef {
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        let kind = object["kind"]?.stringValue ?? ""
        return TypeRef(schema: schema, type: schema.typeName(apiVersion: apiVersion, kind: kind))
    }

    /// Merges an applied configuration into the live object (favouring the applied values).
    public static func merge(_ live: Value?, _ applied: Value, type: TypeRef) -> Value {
        guard case .map(let a) = applied, !type.atomic, !type.isKnownScalar else { return applied }
        guard case .map(var result)? = live else { return applied }
        for (key, value) in a {
            let (childType, field) = type.child(key)
            if case .list(let items) = value, case .list(let liveItems)? = result[key] {
                result[key] = .list(mergeList(liveItems, items, field: field, elementType: childType))
            } else {
                result[key] = merge(result[key], value, type: childType)
            }
        }
        return .map(result)
    }

    public static func mergeList(_ live: [Value], _ applied: [Value], field: KubeSchema.Field?, elementType: TypeRef) -> [Value] {
        switch ListKind(field) {
        case .atomic:
            return applied
        case .set:
            var result = live
            for item in applied where !result.contains(item) { result.append(item) }
            return result
        case .map(let keys, let defaults):
            var result = live
            var liveIndex: [PathElement: Int] = [:]
            for (i, item) in live.enumerated() { liveIndex[ListKind.keyElement(item, keys: keys, defaults: defaults)] = i }
            // New items go right after the applied item before them (or first, if none).
            var insertAt = 0
            var inserted = 0
            for item in applied {
                let element = ListKind.keyElement(item, keys: keys, defaults: defaults)
                if let i = liveIndex[element] {
                    let position = positionOf(element, in: result, keys: keys, defaults: defaults) ?? (i + inserted)
                    result[position] = merge(result[position], item, type: elementType)
                    insertAt = position + 1
                } else {
                    result.insert(item, at: min(insertAt, result.count))
                    insertAt += 1
                    inserted += 1
                }
            }
            return result
        }
    }

    private static func positionOf(_ element: PathElement, in items: [Value], keys: [String], defaults: [String: Value]) -> Int? {
        items.firstIndex { ListKind.keyElement($0, keys: keys, defaults: defaults) == element }
    }

    /// Removes a path from an object (a field, or a list item by key/value/index).
    public static func remove(_ path: FieldPath, from object: inout Value, type: TypeRef) {
        guard let first = path.first else { return }
        let rest = Array(path.dropFirst())
        switch (first, object) {
        case (.field(let name), .map(var map)):
            if rest.isEmpty {
                map[name] = nil
            } else if var child = map[name] {
                let (childType, field) = type.child(name)
                if case .list(var items) = child, let element = rest.first {
                    removeItem(element, rest: Array(rest.dropFirst()), from: &items, field: field, elementType: childType)
                    child = .list(items)
                } else {
                    remove(rest, from: &child, type: childType)
                }
                map[name] = child
            }
            object = .map(map)
        default:
            return
        }
    }

    private static func removeItem(_ element: PathElement, rest: FieldPath, from items: inout [Value], field: KubeSchema.Field?, elementType: TypeRef) {
        guard let index = items.firstIndex(where: { item in
            switch (element, ListKind(field)) {
            case (.key, .map(let keys, let defaults)): ListKind.keyElement(item, keys: keys, defaults: defaults) == element
            case (.value(let json), _): JSON.serialize(item) == json
            default: false
            }
        }) else {
            if case .index(let i) = element, i < items.count, rest.isEmpty { items.remove(at: i) }
            return
        }
        if rest.isEmpty {
            items.remove(at: index)
        } else {
            remove(rest, from: &items[index], type: elementType)
        }
    }

    /// The value at a path, if present.
    public static func value(at path: FieldPath, in object: Value, type: TypeRef) -> Value? {
        guard let first = path.first else { return object }
        let rest = Array(path.dropFirst())
        guard case .field(let name) = first, let child = object[name] else { return nil }
        let (childType, field) = type.child(name)
        if case .list(let items) = child, let element = rest.first {
            let found = items.first { item in
                switch (element, ListKind(field)) {
                case (.key, .map(let keys, let defaults)): ListKind.keyElement(item, keys: keys, defaults: defaults) == element
                case (.value(let json), _): JSON.serialize(item) == json
                default: false
                }
            }
            guard let found else { return nil }
            return value(at: Array(rest.dropFirst()), in: found, type: childType)
        }
        return value(at: rest, in: child, type: childType)
    }

    /// The applied configuration as the server compares it: each value it sets in its stored form
    /// (quantities canonical, Secret stringData folded), without what managed fields never track.
    /// `defaulted` is the applied configuration already defaulted, when the caller has it.
    public static func normalizedApplied(_ applied: Value, schema: KubeSchema = .builtin, defaulted: Value? = nil) -> Value {
        let defaulted = defaulted ?? {
            var defaulted = applied
            Defaults.apply(&defaulted, allocateClusterIP: { "" })
            return defaulted
        }()
        var normalized = normalized(applied, by: defaulted, type: typeRef(for: applied, schema: schema))
        if applied["kind"] == "Secret", applied["apiVersion"] == "v1" { Defaults.foldStringData(&normalized) }
        return trackable(normalized)
    }

    /// The fields an applied configuration gives its manager.
    public static func appliedFields(_ applied: Value, type: TypeRef, defaulted: Value? = nil) -> FieldSet {
        FieldSets.of(normalizedApplied(applied, defaulted: defaulted), type: type)
    }

    /// `appliedFields(…).encoded()`, built directly: the `fieldsV1` of the entry a create stores.
    public static func appliedFieldsV1(_ applied: Value, type: TypeRef, defaulted: Value? = nil) -> Value {
        if applied["kind"] == "Secret", applied["apiVersion"] == "v1" {
            return FieldSets.fieldsV1(of: normalizedApplied(applied, defaulted: defaulted), type: type)
        }
        let defaulted = defaulted ?? {
            var defaulted = applied
            Defaults.apply(&defaulted, allocateClusterIP: { "" })
            return defaulted
        }()
        return FieldSets.fieldsV1(ofApplied: applied, defaulted: defaulted, type: type)
    }

    /// The applied configuration with each value it sets replaced by its defaulted form; an
    /// atomic value (a list or struct owned as a whole) is taken whole, defaults inside included.
    static func normalized(_ applied: Value, by defaulted: Value?, type: TypeRef) -> Value {
        switch (applied, defaulted) {
        case (.map(let a), .map(let d)?):
            if type.atomic { return .map(d) }
            var out = ValueMap()
            for (key, value) in a {
                let (childType, field) = type.child(key)
                if case .list(let items) = value, case .list(let defaultedItems)? = d[key] {
                    if field != nil, case .atomic = ListKind(field) {
                        out[key] = .list(defaultedItems)
                    } else if items.count == defaultedItems.count {
                        out[key] = .list(zip(items, defaultedItems).map { normalized($0, by: $1, type: childType) })
                    } else {
                        out[key] = value
                    }
                } else {
                    out[key] = normalized(value, by: d[key], type: childType)
                }
            }
            return .map(out)
        case (.map, _), (.list, _):
            return applied
        case (_, let d?) where !d.isNull && d.mapValue == nil && d.listValue == nil:
            return d
        default:
            return applied
        }
    }

    /// What a server-side apply does to an existing object, before the server's defaulting runs
    /// again: the merged object, the new managedFields entries, and the conflicts found (fields
    /// whose value changes and another manager owns; with `force` they are taken over).
    public struct Outcome: Sendable {
        public var object: Value
        public var entries: [ManagedFieldsEntry]
        public var conflicts: [(manager: ManagedFieldsEntry, path: FieldPath)]
        /// Paths removed because this manager no longer applies them and nobody else owns them.
        public var removed: [FieldPath]
    }

    public static func apply(
        _ applied: Value, to live: Value, manager: String, force: Bool, type: TypeRef, apiVersion: String, time: String,
        detectConflicts: Bool = true
    ) -> Outcome {
        let trackedApplied = normalizedApplied(applied)
        let appliedSet = FieldSets.of(trackedApplied, type: type)
        var entries = (live[path: ["metadata", "managedFields"]]?.listValue ?? []).compactMap(ManagedFieldsEntry.init)
        func isOwn(_ entry: ManagedFieldsEntry) -> Bool { entry.manager == manager && entry.operation == "Apply" && entry.subresource == nil }
        let previous = entries.first(where: isOwn)?.fields ?? FieldSet()
        var conflicts: [(manager: ManagedFieldsEntry, path: FieldPath)] = []
        for path in appliedSet.paths where detectConflicts {
            let liveValue = value(at: path, in: live, type: type)
            let newValue = value(at: path, in: trackedApplied, type: type)
            guard let liveValue, liveValue != newValue, !isContainer(newValue) else { continue }
            for entry in entries where !isOwn(entry) && entry.fields.contains(path) {
                conflicts.append((entry, path))
            }
        }
        if force {
            let taken = Set(conflicts.map(\.path))
            for i in entries.indices { entries[i].fields.paths.subtract(taken) }
        }
        var next = merge(live, trackedApplied, type: type)
        let others = entries.filter { !isOwn($0) }
        let removable = Set(previous.paths.subtracting(appliedSet.paths).filter { path in
            !others.contains(where: { $0.fields.containsPathOrDescendant(path) }) && !appliedSet.containsPathOrDescendant(path)
        })
        // Remove an item or map as a whole, not field by field (its keys identify it).
        var removed: [FieldPath] = []
        for path in removable.sorted(by: { $0.count > $1.count }) where !(1..<max(path.count, 1)).contains(where: { removable.contains(Array(path.prefix($0))) }) {
            remove(path, from: &next, type: type)
            removed.append(path)
        }
        entries.removeAll(where: isOwn)
        entries.insert(ManagedFieldsEntry(manager: manager, operation: "Apply", apiVersion: apiVersion, time: time, subresource: nil, fields: appliedSet), at: 0)
        return Outcome(object: next, entries: entries.filter { !$0.fields.isEmpty }, conflicts: conflicts, removed: removed)
    }

    private static func isContainer(_ value: Value?) -> Bool {
        switch value {
        case .map(let m)?: !m.isEmpty
        default: false
        }
    }
}
