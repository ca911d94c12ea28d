import TaiCore

/// Which kinds a field spec applies to; an empty part matches anything.
struct KindSelector: Sendable, Equatable {
    var group: String?
    var version: String?
    var kind: String?

    static let any = KindSelector()

    func matches(_ gvk: GroupVersionKind) -> Bool {
        if let group, !group.isEmpty, group != gvk.group { return false }
        if let version, !version.isEmpty, version != gvk.version { return false }
        if let kind, !kind.isEmpty, kind != gvk.kind { return false }
        return true
    }
}

/// A place in objects a transformer writes to, as kustomize's field specs name them:
/// `spec/template/metadata/labels` for kinds the selector matches. Lists met on the way are
/// walked element by element (`containers[]` says so explicitly).
struct FieldSpec: Sendable {
    struct Segment: Sendable, Equatable {
        var name: String
        var isSequence: Bool
    }

    var selector: KindSelector
    var path: [Segment]
    /// Whether missing fields on the way are created.
    var create: Bool

    init(_ path: String, group: String? = nil, version: String? = nil, kind: String? = nil, create: Bool = false) {
        self.selector = KindSelector(group: group, version: version, kind: kind)
        self.path = Self.parse(path)
        self.create = create
    }

    /// Splits a path on `/` (a `\/` stays part of the name) and notes `[]` suffixes.
    static func parse(_ path: String) -> [Segment] {
        var segments: [Segment] = []
        var current = ""
        var escaped = false
        for c in path {
            if escaped {
                current.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "/" {
                segments.append(segment(current))
                current = ""
            } else {
                current.append(c)
            }
        }
        segments.append(segment(current))
        return segments
    }

    private static func segment(_ text: String) -> Segment {
        text.hasSuffix("[]") ? Segment(name: String(text.dropLast(2)), isSequence: true) : Segment(name: text, isSequence: false)
    }

    var pathString: String {
        path.map { $0.name.replacing("/", with: "\\/") + ($0.isSequence ? "[]" : "") }.joined(separator: "/")
    }
}

/// What to create when the last field of a path is missing.
enum CreateKind {
    case map
    case scalar
}

/// An error applying a field spec, before the caller adds the file.
struct FieldSpecError: Error {
    var message: String
}

extension FieldSpec {
    /// Calls `set` on every node this spec reaches in `object`, creating missing fields when the
    /// spec says so and `createKind` tells what to create.
    func apply(
        to object: inout Value, createKind: CreateKind?, _ set: (inout Value) throws(FieldSpecError) -> Void
    ) throws(FieldSpecError) {
        try visit(&object, path[...], createKind: createKind, set)
    }

    private func visit(
        _ node: inout Value, _ remaining: ArraySlice<Segment>, createKind: CreateKind?,
        _ set: (inout Value) throws(FieldSpecError) -> Void
    ) throws(FieldSpecError) {
        guard let segment = remaining.first else {
            try set(&node)
            return
        }
        switch node {
        case .null:
            return
        case .list(var items):
            node = .null
            for i in items.indices { try visit(&items[i], remaining, createKind: createKind, set) }
            node = .list(items)
        case .map(var map):
            let isLast = remaining.count == 1
            let creating = create && createKind != nil && !segment.isSequence
            let emptyChild: Value? =
                creating ? (isLast ? (createKind == .map ? .emptyMap : .string("")) : .emptyMap) : nil
            if let index = map.index(forKey: segment.name) {
                node = .null
                var child = map.values[index]
                map.values[index] = .null
                // kustomize turns a null field into the kind it expects there.
                if child.isNull, let emptyChild { child = emptyChild }
                try visit(&child, remaining.dropFirst(), createKind: createKind, set)
                map.values[index] = child
                node = .map(map)
            } else if let emptyChild {
                node = .null
                var child = emptyChild
                try visit(&child, remaining.dropFirst(), createKind: createKind, set)
                map[segment.name] = child
                node = .map(map)
            }
        default:
            throw FieldSpecError(message: "expected a map or list at '\(segment.name)' of path '\(pathString)', found a \(node.typeName)")
        }
    }
}
