import OrderedCollections
import TaiCore

/// One step of a managed-fields path, as structured-merge-diff spells it in `fieldsV1`.
public enum PathElement: Hashable, Sendable, Comparable {
    /// `f:name`: a struct field or map key.
    case field(String)
    /// `k:{"name":"web"}`: a list-map item by its keys (JSON object, keys sorted).
    case key(String)
    /// `v:"x"`: a set item by its value (JSON).
    case value(String)
    /// `i:0`: an item of a list without keys.
    case index(Int)

    public var encoded: String {
        switch self {
        case .field(let name): "f:" + name
        case .key(let json): "k:" + json
        case .value(let json): "v:" + json
        case .index(let index): "i:\(index)"
        }
    }

    public init?(encoded: String) {
        let body = String(encoded.dropFirst(2))
        switch encoded.prefix(2) {
        case "f:": self = .field(body)
        case "k:": self = .key(body)
        case "v:": self = .value(body)
        case "i:": guard let index = Int(body) else { return nil }; self = .index(index)
        default: return nil
        }
    }

    public static func < (a: PathElement, b: PathElement) -> Bool { a.encoded < b.encoded }

    /// A path as conflict messages print it: `.spec.replicas`, `.spec.template.spec.containers[name="web"].image`.
    public static func describe(_ path: [PathElement]) -> String {
        var out = ""
        for element in path {
            switch element {
            case .field(let name): out += "." + name
            case .key(let json):
                let pairs = (try? JSON.parse(Array(json.utf8)))?.mapValue ?? [:]
                out += "[" + pairs.map { "\($0.key)=\(JSON.serialize($0.value))" }.joined(separator: ",") + "]"
            case .value(let json): out += "[=\(json)]"
            case .index(let index): out += "[\(index)]"
            }
        }
        return out
    }
}

public typealias FieldPath = [PathElement]

/// A set of owned fields: every path in the set is owned (a leaf value, or a map/list item's
/// existence, written `.` in `fieldsV1`).
public struct FieldSet: Sendable, Equatable {
    public var paths: Set<FieldPath> = []

    public var isEmpty: Bool { paths.isEmpty }

    public func contains(_ path: FieldPath) -> Bool { paths.contains(path) }

    /// Whether the set owns the path or anything beneath it.
    public func containsPathOrDescendant(_ path: FieldPath) -> Bool {
        paths.contains { $0.count >= path.count && Array($0.prefix(path.count)) == path }
    }

    public mutating func remove(_ other: FieldSet) { paths.subtract(other.paths) }

    /// The `fieldsV1` tree.
    public func encoded() -> Value {
        final class Node {
            var children: [PathElement: Node] = [:]
            var owned = false
        }
        let root = Node()
        for path in paths {
            var node = root
            for element in path {
                if let next = node.children[element] {
                    node = next
                } else {
                    let next = Node()
                    node.children[element] = next
                    node = next
                }
            }
            node.owned = true
        }
        func encode(_ node: Node) -> Value {
            var map = ValueMap()
            if node.owned && !node.children.isEmpty { map["."] = .map([:]) }
            for (key, child) in node.children.map({ ($0.key.encoded, $0.value) }).sorted(by: { $0.0 < $1.0 }) {
                map[key] = encode(child)
            }
            return .map(map)
        }
        return encode(root)
    }

    /// Reads a `fieldsV1` tree.
    public init(fieldsV1: Value) {
        var paths: Set<FieldPath> = []
        func walk(_ value: Value, _ prefix: FieldPath) {
            guard let map = value.mapValue else { return }
            if map.isEmpty, !prefix.isEmpty { paths.insert(prefix) }
            for (key, child) in map {
                if key == "." {
                    paths.insert(prefix)
                } else if let element = PathElement(encoded: key) {
                    walk(child, prefix + [element])
                }
            }
        }
        walk(fieldsV1, [])
        self.paths = paths
    }

    public init(paths: Set<FieldPath> = []) { self.paths = paths }
}

/// How server-side apply treats a value at some place in an object: decided by the built-in
/// schema, and for unknown types (custom resources) by the value itself (maps granular, lists atomic).
public struct TypeRef: Sendable {
    public var schema: KubeSchema
    /// A struct type name, `map[string]X`, a scalar, or nil (unknown: treat maps as granular).
    public var type: String?
    public var atomic: Bool = false

    public init(schema: KubeSchema, type: String?, atomic: Bool = false) {
        self.schema = schema
        self.type = type
        self.atomic = atomic
    }

    public func child(_ key: String) -> (TypeRef, KubeSchema.Field?) {
        guard let type else { return (TypeRef(schema: schema, type: nil), nil) }
        if type.hasPrefix("map[string]") {
            let element = String(type.dropFirst("map[string]".count))
            return (TypeRef(schema: schema, type: element, atomic: false), nil)
        }
        if let field = schema.field(key, of: type) {
            if field.isList { return (TypeRef(schema: schema, type: field.type), field) }
            let atomic = field.structType == "atomic" || field.mapType == "atomic"
                || (field.type == "json" || field.type == "object")
            return (TypeRef(schema: schema, type: field.type, atomic: atomic), field)
        }
        // A field the schema does not know (e.g. in metadata of a custom resource): granular.
        return (TypeRef(schema: schema, type: nil), nil)
    }

    public var isKnownScalar: Bool {
        guard let type else { return false }
        return !type.hasPrefix("map[string]") && !schema.isStruct(type)
    }
}

/// How the items of a list are identified.
public enum ListKind {
    case atomic
    case set
    case map(keys: [String], defaults: [String: Value])

    public init(_ field: KubeSchema.Field?) {
        guard let field else { self = .atomic; return }
        switch field.listType {
        case "map": self = .map(keys: field.listMapKeys, defaults: field.listMapKeyDefaults)
        case "set": self = .set
        default: self = .atomic
        }
    }

    /// The `k:` element of a list-map item: its key fields (defaulted when missing), as JSON
    /// with keys sorted.
    public static func keyElement(_ item: Value, keys: [String], defaults: [String: Value]) -> PathElement {
        var pairs: [(String, Value)] = []
        for key in keys.sorted() {
            if let v = item[key], !v.isNull {
                pairs.append((key, v))
            } else if let d = defaults[key] {
                pairs.append((key, d))
            }
        }
        let body = pairs.map { "\(JSON.serialize(.string($0.0))):\(JSON.serialize($0.1))" }.joined(separator: ",")
        return .key("{" + body + "}")
    }
}

public enum FieldSets {
    /// The fields an applied configuration sets (what its manager will own).
    public static func of(_ value: Value, type: TypeRef, prefix: FieldPath = []) -> FieldSet {
        var set = FieldSet()
        collect(value, type: type, prefix: prefix, into: &set.paths)
        return set
    }

    /// The `fieldsV1` tree of the fields an applied configuration sets: `of(value, type:).encoded()`,
    /// built directly (no set of paths in between) — what a create needs.
    public static func fieldsV1(of value: Value, type: TypeRef) -> Value {
        let root = FieldTree()
        collect(value, defaulted: nil, type: type, node: root, isRoot: true)
        return root.encoded()
    }

    /// `of(ServerSideApply.normalizedApplied(applied, defaulted: defaulted), type:).encoded()`
    /// without building the normalized copy: the applied object and its defaulted form are
    /// walked together, each value taken in its defaulted form where the paths depend on it (set
    /// items, list-map keys). Not for Secrets, whose `stringData` is folded into `data` first.
    static func fieldsV1(ofApplied applied: Value, defaulted: Value, type: TypeRef) -> Value {
        guard case .map(var top) = applied else { return fieldsV1(of: applied, type: type) }
        // What `ServerSideApply.trackable` drops is never owned.
        for key in ServerSideApply.untracked { top[key] = nil }
        if case .map(var metadata)? = top["metadata"] {
            for key in ServerSideApply.untrackedMetadata { metadata[key] = nil }
            top["metadata"] = metadata.isEmpty ? nil : .map(metadata)
        }
        let root = FieldTree()
        collect(.map(top), defaulted: defaulted, type: type, node: root, isRoot: true)
        return root.encoded()
    }

    // The walk of `collect(_:type:prefix:into:)`, marking tree nodes instead of inserting paths,
    // each value taken in its defaulted form where `defaulted` has one.
    private static func collect(_ value: Value, defaulted: Value?, type: TypeRef, node: FieldTree, isRoot: Bool) {
        guard case .map(let map) = value else {
            if !isRoot { node.owned = true }
            return
        }
        if map.isEmpty || type.atomic || type.isKnownScalar {
            if !isRoot { node.owned = true }
            return
        }
        let defaultedMap = defaulted?.mapValue
        for (key, child) in map {
            let (childType, field) = type.child(key)
            let childNode = node.child("f:" + key)
            if case .list(let items) = child {
                var defaultedItems: [Value]?
                if case .list(let d)? = defaultedMap?[key], d.count == items.count { defaultedItems = d }
                collectList(items, defaulted: defaultedItems, field: field, elementType: childType, node: childNode)
            } else {
                collect(child, defaulted: defaultedMap?[key], type: childType, node: childNode, isRoot: false)
            }
        }
    }

    private static func collectList(_ items: [Value], defaulted: [Value]?, field: KubeSchema.Field?, elementType: TypeRef, node: FieldTree) {
        switch ListKind(field) {
        case .atomic:
            node.owned = true
        case .set:
            if items.isEmpty { node.owned = true }
            for (i, item) in items.enumerated() {
                let value = ServerSideApply.normalized(item, by: defaulted?[i], type: elementType)
                node.child(PathElement.value(JSON.serialize(value)).encoded).owned = true
            }
        case .map(let keys, let defaults):
            if items.isEmpty { node.owned = true }
            for (i, item) in items.enumerated() {
                let defaultedItem = defaulted?[i]
                // The item's key fields in their normalized form: all the `k:` element reads.
                var keyFields = ValueMap()
                for key in keys {
                    guard let v = item[key], !v.isNull else { continue }
                    keyFields[key] = ServerSideApply.normalized(v, by: defaultedItem?[key], type: elementType.child(key).0)
                }
                let itemNode = node.child(ListKind.keyElement(.map(keyFields), keys: keys, defaults: defaults).encoded)
                itemNode.owned = true
                collect(item, defaulted: defaultedItem, type: elementType, node: itemNode, isRoot: false)
            }
        }
    }

    /// A `fieldsV1` tree under construction: children by their encoded path element.
    private final class FieldTree {
        var children: [String: FieldTree] = [:]
        var owned = false

        func child(_ key: String) -> FieldTree {
            if let existing = children[key] { return existing }
            let node = FieldTree()
            children[key] = node
            return node
        }

        func encoded() -> Value {
            var map = ValueMap()
            if owned && !children.isEmpty { map["."] = .map([:]) }
            for key in children.keys.sorted() {
                if let child = children[key] { map[key] = child.encoded() }
            }
            return .map(map)
        }
    }

    public static func collect(_ value: Value, type: TypeRef, prefix: FieldPath, into paths: inout Set<FieldPath>) {
        switch value {
        case .map(let map):
            if map.isEmpty || type.atomic || type.isKnownScalar {
                if !prefix.isEmpty { paths.insert(prefix) }
                return
            }
            for (key, child) in map {
                let (childType, field) = type.child(key)
                let path = prefix + [.field(key)]
                if case .list(let items) = child {
                    collectList(items, field: field, elementType: childType, path: path, into: &paths)
                } else {
                    collect(child, type: childType, prefix: path, into: &paths)
                }
            }
        default:
            if !prefix.isEmpty { paths.insert(prefix) }
        }
    }

    public static func collectList(_ items: [Value], field: KubeSchema.Field?, elementType: TypeRef, path: FieldPath, into paths: inout Set<FieldPath>) {
        switch ListKind(field) {
        case .atomic:
            paths.insert(path)
        case .set:
            if items.isEmpty { paths.insert(path) }
            for item in items { paths.insert(path + [.value(JSON.serialize(item))]) }
        case .map(let keys, let defaults):
            if items.isEmpty { paths.insert(path) }
            for item in items {
                let itemPath = path + [ListKind.keyElement(item, keys: keys, defaults: defaults)]
                paths.insert(itemPath)
                collect(item, type: elementType, prefix: itemPath, into: &paths)
                paths.insert(itemPath)
            }
        }
    }

    /// The leaf paths whose values differ between two versions of an object (added, changed or
    /// removed), plus the items and maps that were created or removed.
    public static func changed(from old: Value?, to new: Value?, type: TypeRef, prefix: FieldPath = []) -> FieldSet {
        var set = FieldSet()
        diff(old, new, type: type, prefix: prefix, into: &set.paths)
        return set
    }

    private static func diff(_ old: Value?, _ new: Value?, type: TypeRef, prefix: FieldPath, into paths: inout Set<FieldPath>) {
        if old == new { return }
        switch (old, new) {
        case (.map(let a)?, .map(let b)?) where !type.atomic && !type.isKnownScalar && !(a.isEmpty || b.isEmpty):
            for key in OrderedSet(a.keys).union(b.keys) {
                let (childType, field) = type.child(key)
                let path = prefix + [.field(key)]
                if case .list(let x)? = a[key], case .list(let y)? = b[key] {
                    diffList(x, y, field: field, elementType: childType, path: path, into: &paths)
                } else {
                    diff(a[key], b[key], type: childType, prefix: path, into: &paths)
                }
            }
        case (nil, .map(let b)?) where !type.atomic && !b.isEmpty && !type.isKnownScalar:
            if !prefix.isEmpty { paths.insert(prefix) }
            for (key, child) in b {
                let (childType, field) = type.child(key)
                let path = prefix + [.field(key)]
                if case .list(let items) = child {
                    collectList(items, field: field, elementType: childType, path: path, into: &paths)
                } else {
                    diff(nil, child, type: childType, prefix: path, into: &paths)
                }
            }
        case (_, nil):
            if !prefix.isEmpty { paths.insert(prefix) }
        case (nil, .list(let items)?):
            // A list the object did not have: owned item by item where the schema keys it.
            if !prefix.isEmpty { paths.insert(prefix) }
            _ = items
        default:
            if !prefix.isEmpty { paths.insert(prefix) }
        }
    }

    private static func diffList(_ a: [Value], _ b: [Value], field: KubeSchema.Field?, elementType: TypeRef, path: FieldPath, into paths: inout Set<FieldPath>) {
        if a == b { return }
        switch ListKind(field) {
        case .map(let keys, let defaults):
            var old: [PathElement: Value] = [:]
            for item in a { old[ListKind.keyElement(item, keys: keys, defaults: defaults)] = item }
            var seen: Set<PathElement> = []
            for item in b {
                let element = ListKind.keyElement(item, keys: keys, defaults: defaults)
                seen.insert(element)
                if old[element] == nil { paths.insert(path + [element]) }
                diff(old[element], item, type: elementType, prefix: path + [element], into: &paths)
            }
            // Items that are gone.
            for item in a {
                let element = ListKind.keyElement(item, keys: keys, defaults: defaults)
                if !seen.contains(element) { paths.insert(path + [element]) }
            }
        case .set:
            for item in b where !a.contains(item) { paths.insert(path + [.value(JSON.serialize(item))]) }
            for item in a where !b.contains(item) { paths.insert(path + [.value(JSON.serialize(item))]) }
        case .atomic:
            paths.insert(path)
        }
    }
}
