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

/// One step of a path to a node inside an object.
enum PathStep: Hashable, Sendable, PathComponent {
    case key(String)
    case index(Int)

    var asKeyOrIndex: KeyOrIndex {
        switch self {
        case .key(let k): .key(k)
        case .index(let i): .index(i)
        }
    }
}

extension FieldSpec {
    /// Calls `set` on every node this spec reaches in `object`, creating missing fields when the
    /// spec says so and `createKind` tells what to create.
    func apply(
        to object: inout Value, createKind: CreateKind?, _ set: (inout Value) throws(FieldSpecError) -> Void
    ) throws(FieldSpecError) {
        try visit(&object, path[...], at: [], createKind: createKind) { node, _ throws(FieldSpecError) in try set(&node) }
    }

    /// As ``apply(to:createKind:_:)``, telling `set` where each node is.
    func apply(
        to object: inout Value, createKind: CreateKind?, _ set: (inout Value, [PathStep]) throws(FieldSpecError) -> Void
    ) throws(FieldSpecError) {
        try visit(&object, path[...], at: [], createKind: createKind, set)
    }

    private func visit(
        _ node: inout Value, _ remaining: ArraySlice<Segment>, at location: [PathStep], createKind: CreateKind?,
        _ set: (inout Value, [PathStep]) throws(FieldSpecError) -> Void
    ) throws(FieldSpecError) {
        guard let segment = remaining.first else {
            try set(&node, location)
            return
        }
        switch node {
        case .null:
            return
        case .list(var items):
            node = .null
            for i in items.indices {
                try visit(&items[i], remaining, at: location + [.index(i)], createKind: createKind, set)
            }
            node = .list(items)
        case .map(var map):
            let isLast = remaining.count == 1
            let creating = create && createKind != nil && !segment.isSequence
            let emptyChild: Value? =
                creating ? (isLast ? (createKind == .map ? .emptyMap : .string("")) : .emptyMap) : nil
            let childLocation = location + [.key(segment.name)]
            if let index = map.index(forKey: segment.name) {
                node = .null
                var child = map.values[index]
                map.values[index] = .null
                // kustomize turns a null field into the kind it expects there.
                if child.isNull, let emptyChild { child = emptyChild }
                try visit(&child, remaining.dropFirst(), at: childLocation, createKind: createKind, set)
                map.values[index] = child
                node = .map(map)
            } else if let emptyChild {
                node = .null
                var child = emptyChild
                try visit(&child, remaining.dropFirst(), at: childLocation, createKind: createKind, set)
                map[segment.name] = child
                node = .map(map)
            }
        default:
            throw FieldSpecError(message: "expected a map or list at '\(segment.name)' of path '\(pathString)', found a \(node.typeName)")
        }
    }
}

extension [FieldSpec] {
    /// kustomize's `FsSlice.MergeOne`: a spec whose path is already covered by a spec that
    /// selects it is not added again (so `labels[].fields` can narrow `metadata/labels`).
    func merging(_ incoming: FieldSpec) throws(FieldSpecError) -> [FieldSpec] {
        if let existing = first(where: { $0.pathString == incoming.pathString && $0.selectsEverythingOf(incoming.selector) }) {
            guard existing.create == incoming.create else {
                throw FieldSpecError(message: "conflicting fieldspecs for path '\(incoming.pathString)'")
            }
            return self
        }
        return self + [incoming]
    }

    func merging(_ incoming: [FieldSpec]) throws(FieldSpecError) -> [FieldSpec] {
        var result = self
        for spec in incoming { result = try result.merging(spec) }
        return result
    }
}

extension FieldSpec {
    /// kustomize's `effectivelyEquals`: this spec's kind is selected by `other` (empty parts
    /// of `other` select anything).
    func selectsEverythingOf(_ other: KindSelector) -> Bool {
        func ok(_ mine: String?, _ theirs: String?) -> Bool {
            guard let theirs, !theirs.isEmpty else { return true }
            return mine == theirs
        }
        return ok(selector.group, other.group) && ok(selector.version, other.version) && ok(selector.kind, other.kind)
    }
}
