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

    public func apply(to document: Value) throws(Failure) -> Value {
        var doc = document
        for operation in operations {
            let path = try Self.pointer(operation.path)
            switch operation.op {
            case "add":
                try Self.add(&doc, path[...], operation.value ?? .null, operation)
            case "remove":
                _ = try Self.remove(&doc, path[...], operation)
            case "replace":
                _ = try Self.remove(&doc, path[...], operation)
                try Self.add(&doc, path[...], operation.value ?? .null, operation)
            case "move":
                let from = try Self.pointer(operation.from ?? "")
                let value = try Self.remove(&doc, from[...], operation)
                try Self.add(&doc, path[...], value, operation)
            case "copy":
                let from = try Self.pointer(operation.from ?? "")
                guard let value = Self.get(doc, from[...]) else {
                    throw Failure(message: "copy operation does not apply: doc is missing from path: \(operation.from ?? "")")
                }
                try Self.add(&doc, path[...], value, operation)
            case "test":
                guard let value = Self.get(doc, path[...]) else {
                    throw Failure(message: "test operation does not apply: doc is missing path: \(operation.path)")
                }
                guard value == operation.value else {
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

    static func get(_ doc: Value, _ path: ArraySlice<String>) -> Value? {
        guard let first = path.first else { return doc }
        switch doc {
        case .map(let m): return m[first].flatMap { get($0, path.dropFirst()) }
        case .list(let items):
            guard let i = Int(first), items.indices.contains(i) else { return nil }
            return get(items[i], path.dropFirst())
        default: return nil
        }
    }

    private static func add(_ doc: inout Value, _ path: ArraySlice<String>, _ value: Value, _ op: Operation) throws(Failure) {
        guard let first = path.first else {
            doc = value
            return
        }
        let last = path.count == 1
        switch doc {
        case .map(var m):
            if last {
                doc = .null
                m[first] = value
                doc = .map(m)
                return
            }
            guard var child = m[first] else {
                throw Failure(message: "\(op.op) operation does not apply: doc is missing path: \(op.path)")
            }
            doc = .null
            try add(&child, path.dropFirst(), value, op)
            m[first] = child
            doc = .map(m)
        case .list(var items):
            if last {
                let index = first == "-" ? items.count : Int(first) ?? -1
                guard index >= 0, index <= items.count else {
                    throw Failure(message: "\(op.op) operation does not apply: index \(first) is out of range for path: \(op.path)")
                }
                doc = .null
                items.insert(value, at: index)
                doc = .list(items)
                return
            }
            guard let index = Int(first), items.indices.contains(index) else {
                throw Failure(message: "\(op.op) operation does not apply: doc is missing path: \(op.path)")
            }
            doc = .null
            try add(&items[index], path.dropFirst(), value, op)
            doc = .list(items)
        default:
            throw Failure(message: "\(op.op) operation does not apply: doc is missing path: \(op.path)")
        }
    }

    private static func remove(_ doc: inout Value, _ path: ArraySlice<String>, _ op: Operation) throws(Failure) -> Value {
        guard let first = path.first else {
            throw Failure(message: "\(op.op) operation does not apply: cannot remove the whole document")
        }
        let missing = Failure(message: "\(op.op) operation does not apply: doc is missing path: \(op.op == "move" ? op.from ?? "" : op.path)")
        switch doc {
        case .map(var m):
            doc = .null
            defer { doc = .map(m) }
            if path.count == 1 {
                guard let removed = m.removeValue(forKey: first) else { throw missing }
                return removed
            }
            guard var child = m[first] else { throw missing }
            let removed = try remove(&child, path.dropFirst(), op)
            m[first] = child
            return removed
        case .list(var items):
            guard let index = Int(first), items.indices.contains(index) else { throw missing }
            doc = .null
            defer { doc = .list(items) }
            if path.count == 1 { return items.remove(at: index) }
            return try remove(&items[index], path.dropFirst(), op)
        default:
            throw missing
        }
    }
}
