import TaiCore
import TaiSSA

/// Fields an environment leaves to others (its sync settings' `ignore` list): per group/kind
/// (and optionally name and namespace), JSON pointers (`/spec/replicas`) or paths with list
/// selectors (`spec.template.spec.containers[name=istio-proxy].image`).
public struct IgnoreRule: Sendable, Equatable {
    public var group: String?
    public var kind: String?
    public var name: String?
    public var namespace: String?
    /// Each path as steps: map keys, or `[key=value]` list selectors.
    public var paths: [[PathStep]]

    public enum PathStep: Sendable, Equatable {
        case key(String)
        case select(field: String, value: String)
        case index(Int)
    }

    public init(group: String? = nil, kind: String? = nil, name: String? = nil, namespace: String? = nil, paths: [[PathStep]]) {
        self.group = group
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.paths = paths
    }

    /// Reads `spec.ignore` of a SyncSettings document.
    public static func parse(_ settings: Value, file: String) throws(DiffError) -> [IgnoreRule] {
        var rules: [IgnoreRule] = []
        for (i, entry) in (settings[path: ["spec", "ignore"]]?.listValue ?? []).enumerated() {
            var paths: [[PathStep]] = []
            for pointer in entry["jsonPointers"]?.listValue?.compactMap(\.stringValue) ?? [] {
                guard pointer.hasPrefix("/") else { throw .settings(file: file, field: "spec.ignore[\(i)].jsonPointers", message: "'\(pointer)' is not a JSON pointer (it must start with /)") }
                paths.append(pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
                    let key = $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                    return Int(key).map(PathStep.index) ?? .key(key)
                })
            }
            for path in entry["paths"]?.listValue?.compactMap(\.stringValue) ?? [] {
                paths.append(try parsePath(path, file: file, field: "spec.ignore[\(i)].paths"))
            }
            if paths.isEmpty { throw .settings(file: file, field: "spec.ignore[\(i)]", message: "names no jsonPointers or paths") }
            rules.append(IgnoreRule(
                group: entry["group"]?.stringValue, kind: entry["kind"]?.stringValue, name: entry["name"]?.stringValue,
                namespace: entry["namespace"]?.stringValue, paths: paths))
        }
        return rules
    }

    static func parsePath(_ text: String, file: String, field: String) throws(DiffError) -> [PathStep] {
        var steps: [PathStep] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            if rest.first == "." { rest = rest.dropFirst(); continue }
            if rest.first == "[" {
                guard let close = rest.firstIndex(of: "]") else { throw .settings(file: file, field: field, message: "'\(text)': unclosed [") }
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                if let eq = inside.firstIndex(of: "=") {
                    steps.append(.select(field: String(inside[..<eq]), value: String(inside[inside.index(after: eq)...])))
                } else if let index = Int(inside) {
                    steps.append(.index(index))
                } else {
                    throw .settings(file: file, field: field, message: "'\(text)': [\(inside)] is neither [key=value] nor an index")
                }
                rest = rest[rest.index(after: close)...]
            } else {
                let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
                steps.append(.key(String(rest[..<end])))
                rest = rest[end...]
            }
        }
        return steps
    }

    func matches(_ object: Value) -> Bool {
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        let group = GroupVersionKind(apiVersion: apiVersion, kind: "").group
        if let g = self.group, g != group { return false }
        if let k = kind, k != object["kind"]?.stringValue { return false }
        if let n = name, n != object[path: ["metadata", "name"]]?.stringValue { return false }
        if let ns = namespace, ns != object[path: ["metadata", "namespace"]]?.stringValue { return false }
        return true
    }

    /// Removes the ignored fields from an object (a desired object, before it is applied).
    public static func stripping(_ object: Value, rules: [IgnoreRule]) -> Value { strip(object, rules: rules) }

    /// Removes the ignored fields from an object (a desired object, before it is compared).
    static func strip(_ object: Value, rules: [IgnoreRule]) -> Value {
        var object = object
        for rule in rules where rule.matches(object) {
            for path in rule.paths { remove(path[...], from: &object) }
        }
        return object
    }

    private static func remove(_ path: ArraySlice<PathStep>, from value: inout Value) {
        guard let first = path.first else { return }
        let rest = path.dropFirst()
        switch (first, value) {
        case (.key(let key), .map(var map)):
            if rest.isEmpty { map[key] = nil } else if var child = map[key] { remove(rest, from: &child); map[key] = child }
            value = .map(map)
        case (.select(let field, let wanted), .list(var items)):
            for i in items.indices where items[i][field]?.scalarText == wanted {
                if rest.isEmpty { items[i] = .null } else { remove(rest, from: &items[i]) }
            }
            value = .list(items.filter { !$0.isNull })
        case (.index(let i), .list(var items)) where i < items.count:
            if rest.isEmpty { items.remove(at: i) } else { remove(rest, from: &items[i]) }
            value = .list(items)
        default:
            return
        }
    }

    /// Whether a changed field (as a managed-fields path) falls under an ignored path.
    func covers(_ path: FieldPath, in object: Value) -> Bool {
        guard matches(object) else { return false }
        return paths.contains { steps in
            guard steps.count <= path.count else { return false }
            for (step, element) in zip(steps, path) {
                switch (step, element) {
                case (.key(let k), .field(let f)): if k != f { return false }
                case (.select(let field, let value), .key(let json)):
                    let keys = (try? JSON.parse(Array(json.utf8)))?.mapValue ?? [:]
                    if keys[field]?.scalarText != value { return false }
                case (.index, _): return true
                default: return false
                }
            }
            return true
        }
    }
}
