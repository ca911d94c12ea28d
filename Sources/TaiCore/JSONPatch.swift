/// RFC 6902 JSON patches over ``Value``: add, remove, replace, move, copy and test, with
/// RFC 6901 pointers (`~0` for `~`, `~1` for `/`, `-` for the end of a list).
public struct JSONPatch: Sendable {
    public struct Operation: Sendable {
        var op: String
        var path: String
        var from: String?
        var value: Value?
    }

    public struct Failure: Error, Sendable {
        public var message: String
    }

    public let operations: [Operation]

    /// Reads operations from a parsed patch document (a list of maps).
    public init(_ document: Value) throws(Failure) {
        guard case .list(let items) = document else { throw Failure(message: "a JSON patch must be a list of operations") }
        var operations: [Operation] = []
        for (i, item) in items.enumerated() {
            guard case .map(let m) = item else { throw Failure(message: "operation \(i) is not a map") }
            guard let op = m["op"]?.stringValue else { throw Failure(message: "operation \(i) has no 'op'") }
            guard ["add", "remove", "replace", "move", "copy", "test"].contains(op) else {
                throw Failure(message: "operation \(i): unknown op '\(op)'")
            }
            guard let path = m["path"]?.stringValue else { throw Failure(message: "operation \(i) (\(op)) has no 'path'") }
            let from = m["from"]?.stringValue
            if (op == "move" || op == "copy") && from == nil { throw Failure(message: "operation \(i) (\(op)) has no 'from'") }
            if ["add", "replace", "test"].contains(op) && m["value"] == nil {
                throw Failure(message: "operation \(i) (\(op)) has no 'value'")
            }
            operations.append(Operation(op: op, path: path, from: from, value: m["value"]))
        }
        self.operations = operations
    }

    /// Applies the operations in order, as evanphx/json-patch v5 does for kustomize v5.5 and
    /// kube-apiserver:
    /// - `add` needs the parent to exist (it never creates one); `-` appends, an index may equal
    ///   the list's length, and a negative index counts from the end (`-1` appends);
    /// - `replace` needs the parent; a missing map key is then simply set, a list index must exist;
    ///   the empty path replaces the whole document;
    /// - `remove` and `move` need the value to exist;
    /// - `copy` from a missing map key copies `null`; `test` compares a missing map key as `null`;
    /// - a negative index in the middle of a path counts from the end.
    public func apply(to document: Value) throws(Failure) -> Value {
        var doc = document
        for operation in operations {
            let path = try Self.pointer(operation.path)
            switch operation.op {
            case "add":
                guard !path.isEmpty else {
                    throw Failure(message: "add operation does not apply: doc is missing path: \"\"")
                }
                try Self.add(&doc, path[...], operation.value ?? .null, operation, missing: "doc is missing path: \(operation.path)")
            case "remove":
                _ = try Self.remove(&doc, path[...], operation, pointer: operation.path)
            case "replace":
                guard !path.isEmpty else {
                    doc = operation.value ?? .null
                    continue
                }
                try Self.replace(&doc, path[...], operation.value ?? .null, operation)
            case "move":
                let fromText = operation.from ?? ""
                let from = try Self.pointer(fromText)
                guard Self.container(doc, from[...]) != nil else {
                    throw Failure(message: "move operation does not apply: doc is missing from path: \(fromText)")
                }
                guard Self.container(doc, path[...]) != nil else {
                    throw Failure(message: "move operation does not apply: doc is missing destination path: \(operation.path)")
                }
                let value = try Self.remove(&doc, from[...], operation, pointer: fromText)
                try Self.add(&doc, path[...], value, operation, missing: "doc is missing destination path: \(operation.path)")
            case "copy":
                let fromText = operation.from ?? ""
                let from = try Self.pointer(fromText)
                guard let value = try Self.lookUp(doc, from[...], missingFailure: "copy operation does not apply: doc is missing from path: \(fromText)") else {
                    throw Failure(message: "copy operation does not apply: doc is missing from path: \(fromText)")
                }
                guard Self.container(doc, path[...]) != nil else {
                    throw Failure(message: "copy operation does not apply: doc is missing destination path: \(operation.path)")
                }
                try Self.add(&doc, path[...], value, operation, missing: "doc is missing destination path: \(operation.path)")
            case "test":
                guard let value = try Self.lookUp(doc, path[...], missingFailure: "test operation does not apply: doc is missing path: \(operation.path)") else {
                    throw Failure(message: "test operation does not apply: doc is missing path: \(operation.path)")
                }
                guard Self.jsonEqual(value, operation.value ?? .null) else {
                    throw Failure(message: "testing value \(operation.path) failed: test failed")
                }
            default:
                break
            }
        }
        return doc
    }

    static func pointer(_ text: String) throws(Failure) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw Failure(message: "invalid JSON pointer '\(text)': it must start with '/'") }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).replacing("~1", with: "/").replacing("~0", with: "~")
        }
    }

    /// A list index as Go's strconv.Atoi reads it (a sign and digits; leading zeros allowed).
    private static func index(_ text: String) -> Int? {
        guard !text.isEmpty, text != "+", text != "-" else { return nil }
        return Int(text)
    }

    /// `index` into a list of `count` elements, a negative one counted from the end; nil when out of range.
    private static func resolved(_ text: String, count: Int) -> Int? {
        guard var i = index(text) else { return nil }
        if i < 0 {
            guard i >= -count else { return nil }
            i += count
        }
        return i < count ? i : nil
    }

    /// The value at a path; nil when a step on the way is missing.
    static func get(_ doc: Value, _ path: ArraySlice<String>) -> Value? {
        guard let first = path.first else { return doc }
        switch doc {
        case .map(let m): return m[first].flatMap { get($0, path.dropFirst()) }
        case .list(let items):
            guard let i = resolved(first, count: items.count) else { return nil }
            return get(items[i], path.dropFirst())
        default: return nil
        }
    }

    /// The collection holding the path's last step; nil when the way there is missing.
    private static func container(_ doc: Value, _ path: ArraySlice<String>) -> Value? {
        guard !path.isEmpty, let parent = get(doc, path.dropLast()) else { return nil }
        switch parent {
        case .map, .list: return parent
        default: return nil
        }
    }

    /// The value for `copy` and `test`: a missing map key reads as `null`; a missing parent or
    /// list element fails; the empty path is the whole document.
    private static func lookUp(_ doc: Value, _ path: ArraySlice<String>, missingFailure: String) throws(Failure) -> Value? {
        guard let last = path.last else { return doc }
        switch container(doc, path) {
        case .map(let m)?: return m[last] ?? .null
        case .list(let items)?:
            guard let i = resolved(last, count: items.count) else { throw Failure(message: missingFailure) }
            return items[i]
        default: return nil
        }
    }

    /// JSON equality: numbers compare by value whatever their type (`1` equals `1.0`).
    static func jsonEqual(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.int, .double), (.double, .int), (.uint, .double), (.double, .uint), (.int, .uint), (.uint, .int):
            return a.numberValue == b.numberValue
        case (.list(let x), .list(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { jsonEqual($0, $1) }
        case (.map(let x), .map(let y)):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { jsonEqual(value, $0) } ?? false }
        default:
            return a == b
        }
    }

    /// Walks to the parent of the path's last step and hands it to `body`.
    private static func withParent(
        _ doc: inout Value, _ path: ArraySlice<String>, missing: @autoclosure () -> Failure,
        _ body: (inout Value, String) throws(Failure) -> Void
    ) throws(Failure) {
        guard let first = path.first else { throw missing() }
        if path.count == 1 {
            try body(&doc, first)
            return
        }
        switch doc {
        case .map(var m):
            guard var child = m[first] else { throw missing() }
            doc = .null
            defer { doc = .map(m) }
            m[first] = .null
            defer { m[first] = child }
            try withParent(&child, path.dropFirst(), missing: missing(), body)
        case .list(var items):
            guard let i = resolved(first, count: items.count) else { throw missing() }
            doc = .null
            defer { doc = .list(items) }
            try withParent(&items[i], path.dropFirst(), missing: missing(), body)
        default:
            throw missing()
        }
    }

    /// `add` inserts into a list (`-` appends, an index may equal the count, a negative one counts
    /// from the end past it); `replace` overwrites an element that exists. Both set a map key.
    private enum Put { case add, replace }

    private static func add(_ doc: inout Value, _ path: ArraySlice<String>, _ value: Value, _ op: Operation, missing: String) throws(Failure) {
        try put(.add, &doc, path, value, op, missing: Failure(message: "\(op.op) operation does not apply: \(missing)"))
    }

    private static func replace(_ doc: inout Value, _ path: ArraySlice<String>, _ value: Value, _ op: Operation) throws(Failure) {
        try put(.replace, &doc, path, value, op, missing: Failure(message: "replace operation does not apply: doc is missing path: \(op.path)"))
    }

    private static func put(_ mode: Put, _ doc: inout Value, _ path: ArraySlice<String>, _ value: Value, _ op: Operation, missing: Failure) throws(Failure) {
        try withParent(&doc, path, missing: missing) { parent, key throws(Failure) in
            switch parent {
            case .map(var m):
                parent = .null
                m[key] = value
                parent = .map(m)
            case .list(var items):
                parent = .null
                defer { parent = .list(items) }
                if mode == .replace {
                    guard let i = resolved(key, count: items.count) else {
                        throw Failure(message: "replace operation does not apply: doc is missing key: \(op.path)")
                    }
                    items[i] = value
                    return
                }
                var position = items.count
                if key != "-" {
                    guard let i = index(key) else {
                        throw Failure(message: "\(op.op) operation does not apply: value was not a proper array index: '\(key)' in \(op.path)")
                    }
                    position = i < 0 ? i + items.count + 1 : i
                    guard (0...items.count).contains(position) else {
                        throw Failure(message: "\(op.op) operation does not apply: index \(key) is out of range for path: \(op.path)")
                    }
                }
                items.insert(value, at: position)
            default:
                throw missing
            }
        }
    }

    private static func remove(_ doc: inout Value, _ path: ArraySlice<String>, _ op: Operation, pointer: String) throws(Failure) -> Value {
        let missing = Failure(message: "\(op.op) operation does not apply: doc is missing path: \(pointer)")
        guard !path.isEmpty else {
            throw Failure(message: "\(op.op) operation does not apply: cannot remove the whole document")
        }
        var removed: Value = .null
        try withParent(&doc, path, missing: missing) { parent, key throws(Failure) in
            switch parent {
            case .map(var m):
                parent = .null
                defer { parent = .map(m) }
                guard let value = m.removeValue(forKey: key) else {
                    throw Failure(message: "\(op.op) operation does not apply: unable to remove nonexistent key '\(key)' at \(pointer)")
                }
                removed = value
            case .list(var items):
                guard let i = resolved(key, count: items.count) else {
                    throw Failure(message: "\(op.op) operation does not apply: index \(key) is out of range for path: \(pointer)")
                }
                parent = .null
                removed = items.remove(at: i)
                parent = .list(items)
            default:
                throw missing
            }
        }
        return removed
    }
}
