import Foundation
import TaiCore
import TaiYAML

/// A `replacements` entry: copy one field of one object into fields of others.
struct Replacement: Sendable {
    struct Source: Sendable {
        var group, version, kind, name, namespace: String?
        var fieldPath: String
        var delimiter: String?
        var index: Int
    }

    struct Target: Sendable {
        var select: Selector
        var reject: [Selector]
        var fieldPaths: [String]
        var delimiter: String?
        var index: Int
        var create: Bool
    }

    var field: String
    var source: Source
    var targets: [Target]
}

extension Replacement {
    /// Reads one replacement from its YAML form.
    init(parsing value: Value, field: String, file: String) throws(RenderError) {
        let m = try Kustomization.map(value, field, file, allowed: ["source", "targets"])
        guard let sourceValue = m["source"] else {
            throw RenderError(path: file, field: "\(field).source", message: "a replacement needs a source")
        }
        let s = try Kustomization.map(
            sourceValue, "\(field).source", file,
            allowed: ["group", "version", "kind", "name", "namespace", "fieldPath", "options"])
        func str(_ m: ValueMap, _ key: String, _ f: String) throws(RenderError) -> String? {
            try Kustomization.string(m[key], "\(f).\(key)", file)
        }
        var sourceDelimiter: String?
        var sourceIndex = 0
        if let options = s["options"] {
            let o = try Kustomization.map(options, "\(field).source.options", file, allowed: ["delimiter", "index", "create"])
            sourceDelimiter = try str(o, "delimiter", "\(field).source.options")
            sourceIndex = o["index"]?.intValue ?? 0
        }
        self.field = field
        self.source = Source(
            group: try str(s, "group", "\(field).source"), version: try str(s, "version", "\(field).source"),
            kind: try str(s, "kind", "\(field).source"), name: try str(s, "name", "\(field).source"),
            namespace: try str(s, "namespace", "\(field).source"),
            fieldPath: try str(s, "fieldPath", "\(field).source") ?? "metadata.name",
            delimiter: sourceDelimiter, index: sourceIndex)
        var targets: [Target] = []
        for (i, t) in try Kustomization.list(m["targets"], "\(field).targets", file).enumerated() {
            let tf = "\(field).targets[\(i)]"
            let tm = try Kustomization.map(t, tf, file, allowed: ["select", "reject", "fieldPaths", "options"])
            guard let select = tm["select"] else {
                throw RenderError(path: file, field: "\(tf).select", message: "target must specify resources to select")
            }
            var delimiter: String?
            var index = 0
            var create = false
            if let options = tm["options"] {
                let o = try Kustomization.map(options, "\(tf).options", file, allowed: ["delimiter", "index", "create"])
                delimiter = try str(o, "delimiter", "\(tf).options")
                index = o["index"]?.intValue ?? 0
                create = try Kustomization.bool(o["create"], "\(tf).options.create", file)
            }
            var paths = try Kustomization.strings(tm["fieldPaths"], "\(tf).fieldPaths", file)
            if paths.isEmpty { paths = ["metadata.name"] }
            targets.append(
                Target(
                    select: try Self.selector(select, "\(tf).select", file),
                    reject: try Kustomization.list(tm["reject"], "\(tf).reject", file).enumerated().map {
                        (j, r) throws(RenderError) in try Self.selector(r, "\(tf).reject[\(j)]", file)
                    },
                    fieldPaths: paths, delimiter: delimiter, index: index, create: create))
        }
        self.targets = targets
    }

    private static func selector(_ value: Value, _ field: String, _ file: String) throws(RenderError) -> Selector {
        let m = try Kustomization.map(
            value, field, file, allowed: ["group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"])
        func s(_ key: String) throws(RenderError) -> String? { try Kustomization.string(m[key], "\(field).\(key)", file) }
        return Selector(
            group: try s("group"), version: try s("version"), kind: try s("kind"), name: try s("name"),
            namespace: try s("namespace"), labelSelector: try s("labelSelector"), annotationSelector: try s("annotationSelector"))
    }
}

/// Applies replacements as kustomize does: the source must select exactly one object (by its
/// current or an earlier identity); every selected, not rejected target gets the value at each
/// field path — the whole node, or for a scalar target just its text, so the target keeps its type.
struct Replacer {
    struct Failure: Error { var message: String }

    static func apply(_ r: Replacement, to resources: inout [Resource], file: String) throws(RenderError) {
        func fail(_ message: String) -> RenderError { RenderError(path: file, field: r.field, message: message) }
        let matches = resources.filter { res in
            ids(of: res).contains { id in
                (r.source.group.map { $0 == id.gvk.group } ?? true) && (r.source.version.map { $0 == id.gvk.version } ?? true)
                    && (r.source.kind.map { $0 == id.gvk.kind } ?? true) && (r.source.name.map { $0 == id.name } ?? true)
                    && (r.source.namespace.map { $0 == id.namespace } ?? true)
            }
        }
        let description = [r.source.kind, r.source.name].compactMap { $0 }.joined(separator: "/")
        guard matches.count == 1 else {
            throw fail(matches.isEmpty ? "nothing selected by source \(description)" : "multiple matches for source \(description)")
        }
        let path = splitPath(r.source.fieldPath)
        guard let found = (try? select(path, in: matches[0].object, create: nil))?.first?.value, !isNilOrEmpty(found) else {
            throw fail("fieldPath `\(r.source.fieldPath)` is missing for replacement source \(matches[0].identity)")
        }
        var value = found
        if let delimiter = r.source.delimiter, !delimiter.isEmpty {
            guard let text = value.scalarText else { throw fail("delimiter option can only be used with scalar nodes") }
            let parts = text.components(separatedBy: delimiter)
            guard r.source.index >= 0, r.source.index < parts.count else {
                throw fail("options.index \(r.source.index) is out of bounds for value \(text)")
            }
            value = .string(parts[r.source.index])
        }

        for (t, target) in r.targets.enumerated() {
            let select = try target.select.compile(file: file, field: "\(r.field).targets[\(t)].select")
            let rejects = try target.reject.enumerated().map { (j, s) throws(RenderError) in
                try s.compile(file: file, field: "\(r.field).targets[\(t)].reject[\(j)]")
            }
            for i in resources.indices {
                let res = resources[i]
                guard select.selectsAnyID(of: res), !rejects.contains(where: { $0.selectsAnyID(of: res) }) else { continue }
                for fieldPath in target.fieldPaths {
                    let steps = splitPath(fieldPath)
                    var object = resources[i].object
                    do throws(Failure) {
                        let count = try set(steps[...], in: &object, create: target.create ? Optional(value) : Optional<Value>.none) { current throws(Failure) in
                            try newValue(current: current, value: value, target: target)
                        }
                        guard count > 0 else {
                            throw Failure(
                                message: target.create
                                    ? "unable to find or create field \"\(fieldPath)\" in replacement target"
                                    : "unable to find field \"\(fieldPath)\" in replacement target")
                        }
                    } catch {
                        throw RenderError(path: file, field: "\(r.field).targets[\(t)]", message: "\(res.identity): \(error.message)")
                    }
                    if let text = value.scalarText, let path = Self.concrete(steps) {
                        let existed = resources[i].object[steps: path] != nil
                        Self.trackUntagged(steps, text: text, created: target.create && !existed, in: &object, resource: &resources[i])
                    }
                    resources[i].object = object
                }
            }
        }
    }

    /// The concrete path of a field path made of keys and positions only (no selectors).
    private static func concrete(_ steps: [Step]) -> [Resource.PathStep]? {
        var path: [Resource.PathStep] = []
        for step in steps {
            switch step {
            case .field(let key): path.append(.key(key))
            case .index(let i): path.append(.index(i))
            default: return nil
            }
        }
        return path
    }

    /// After a replacement into `steps`: a scalar it created that does not read back as a string
    /// is untagged in kustomize (see ``Resource/untaggedScalars``); one it changed that was
    /// untagged gets new text that reads back by the YAML rules, whatever type it had.
    private static func trackUntagged(_ steps: [Step], text: String, created: Bool, in object: inout Value, resource: inout Resource) {
        guard let path = concrete(steps), let now = object[steps: path], let nowText = now.scalarText else { return }
        if let index = resource.untaggedScalars.firstIndex(where: { $0.path == path }) {
            let value = YAML.resolvePlainScalar(nowText)
            object[steps: path] = value
            if value.stringValue == nil {
                resource.untaggedScalars[index].text = nowText
            } else {
                resource.untaggedScalars.remove(at: index)
            }
        } else if created, now.stringValue == nil {
            // kustomize's annotations are rewritten as strings at the end of every build.
            if path.count == 3, path[0] == .key("metadata"), path[1] == .key("annotations") {
                object[steps: path] = .string(text)
            } else {
                resource.untaggedScalars.append((path, text))
            }
        }
    }

    private static func newValue(current: Value?, value: Value, target: Replacement.Target) throws(Failure) -> Value {
        var value = value
        if let delimiter = target.delimiter, !delimiter.isEmpty {
            guard let currentText = current?.scalarText ?? (current == nil ? "" : nil) else {
                throw Failure(message: "delimiter option can only be used with scalar nodes")
            }
            var parts = currentText.components(separatedBy: delimiter)
            let v = value.scalarText ?? ""
            if target.index < 0 {
                parts.insert(v, at: 0)
            } else if target.index >= parts.count {
                parts.append(v)
            } else {
                parts[target.index] = v
            }
            value = .string(parts.joined(separator: delimiter))
        }
        // A scalar target keeps its type; only its text changes. A created one has no type of
        // its own: kustomize writes the text untagged, so it reads back by the YAML rules.
        guard let text = value.scalarText else { return value }
        guard let current else { return YAML.resolvePlainScalar(text) }
        switch current {
        case .string: return .string(text)
        case .int, .uint: return Int(text).map(Value.int) ?? UInt(text).map(Value.uint) ?? .string(text)
        case .double: return Double(text).map(Value.double) ?? .string(text)
        case .bool: return text == "true" ? .bool(true) : text == "false" ? .bool(false) : .string(text)
        default: return value
        }
    }

    private static func isNilOrEmpty(_ v: Value) -> Bool {
        switch v {
        case .null: true
        case .map(let m): m.isEmpty
        case .list(let l): l.isEmpty
        default: false
        }
    }

    /// Every identity an object has had, kustomize's `MakeResIds`: current first, then earlier ones.
    static func ids(of r: Resource) -> [ObjectIdentity] {
        [r.identity]
            + r.previousIDs.map {
                ObjectIdentity(
                    gvk: GroupVersionKind(group: r.gvk.group, version: r.gvk.version, kind: $0.kind),
                    namespace: $0.namespace == "default" && r.namespace.isEmpty ? "" : $0.namespace, name: $0.name)
            }
    }

    enum Step: Equatable {
        case field(String)
        case index(Int)
        case match(key: String, value: String)
        case all
    }

    /// kyaml's field path: `.`-separated, `[key=value]` list selectors kept whole, `*` for all.
    static func splitPath(_ path: String) -> [Step] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for c in path {
            if c == "[" { depth += 1 }
            if c == "]" { depth -= 1 }
            if c == "." && depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        parts.append(current)
        return parts.map { part in
            if part == "*" || part == "[*]" { return .all }
            if part.hasPrefix("["), part.hasSuffix("]"), let eq = part.firstIndex(of: "=") {
                return .match(
                    key: String(part[part.index(after: part.startIndex)..<eq]),
                    value: String(part[part.index(after: eq)..<part.index(before: part.endIndex)]))
            }
            if let i = Int(part) { return .index(i) }
            return .field(part)
        }
    }

    /// The nodes a path reaches (for reading the source).
    static func select(_ path: [Step], in value: Value, create: Value?) throws -> [(value: Value, path: [Step])] {
        var copy = value
        var found: [Value] = []
        _ = try set(path[...], in: &copy, create: nil) { current throws(Failure) in
            if let current { found.append(current) }
            return current ?? .null
        }
        return found.map { ($0, path) }
    }

    /// Replaces every node `path` reaches with `transform(current)`; creates missing fields (and
    /// list elements for `[key=value]`) when `create` is given. Returns how many it set.
    @discardableResult
    static func set(
        _ path: ArraySlice<Step>, in node: inout Value, create: Value?, _ transform: (Value?) throws(Failure) -> Value
    ) throws(Failure) -> Int {
        guard let step = path.first else {
            node = try transform(node)
            return 1
        }
        let rest = path.dropFirst()
        switch (step, node) {
        case (.field(let key), .map(var m)):
            if var child = m[key] {
                node = .null
                let n = try set(rest, in: &child, create: create, transform)
                m[key] = child
                node = .map(m)
                return n
            }
            guard create != nil else { return 0 }
            var child: Value = rest.isEmpty ? .null : (rest.first.map { if case .field = $0 { return .emptyMap } else { return .list([]) } } ?? .null)
            if rest.isEmpty {
                m[key] = try transform(nil)
                node = .map(m)
                return 1
            }
            let n = try set(rest, in: &child, create: create, transform)
            m[key] = child
            node = .map(m)
            return n
        case (.field, .null) where create != nil:
            node = .emptyMap
            return try set(path, in: &node, create: create, transform)
        case (.index(let i), .list(var items)) where i == items.count && create != nil:
            // kyaml creates the element right after the last one (and no further).
            if rest.isEmpty {
                items.append(try transform(nil))
                node = .list(items)
                return 1
            }
            var element: Value = rest.first.map { if case .field = $0 { return .emptyMap } else { return .list([]) } } ?? .null
            let n = try set(rest, in: &element, create: create, transform)
            items.append(element)
            node = .list(items)
            return n
        case (.index, .null) where create != nil:
            node = .list([])
            return try set(path, in: &node, create: create, transform)
        case (.index(let i), .list(var items)):
            guard items.indices.contains(i) else { return 0 }
            node = .null
            let n = try set(rest, in: &items[i], create: create, transform)
            node = .list(items)
            return n
        case (.all, .list(var items)):
            node = .null
            var n = 0
            for j in items.indices { n += try set(rest, in: &items[j], create: create, transform) }
            node = .list(items)
            return n
        case (.match(let key, let value), .list(var items)):
            node = .null
            var n = 0
            for j in items.indices where items[j][key]?.scalarText == value {
                n += try set(rest, in: &items[j], create: create, transform)
            }
            if n == 0, create != nil {
                var element: Value = [key: .string(value)]
                n = try set(rest, in: &element, create: create, transform)
                items.append(element)
            }
            node = .list(items)
            return n
        case (.match, .null) where create != nil:
            node = .list([])
            return try set(path, in: &node, create: create, transform)
        default:
            return 0
        }
    }
}

extension Selector.Compiled {
    /// Whether any identity the object has had is selected (replacement targets and rejects).
    func selectsAnyID(of r: Resource) -> Bool {
        Replacer.ids(of: r).contains { id in
            matchesText(group, id.gvk.group) && matchesText(version, id.gvk.version) && matchesText(kind, id.gvk.kind)
                && matchesText(name, id.name) && matchesText(namespace, id.namespace.isEmpty ? "default" : id.namespace)
        } && labelsAndAnnotationsMatch(r)
    }
}
