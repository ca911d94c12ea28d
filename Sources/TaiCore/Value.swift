public import OrderedCollections

/// The ordered map used for Kubernetes objects: keys keep the order they were read or inserted in.
public typealias ValueMap = OrderedDictionary<String, Value>

/// A JSON-like value: the object model every stage of tai-gitops works on.
///
/// Types are preserved across YAML and JSON round trips: `"8080"` stays a string, `8080` an
/// integer and `1.0` a floating point number. Maps keep their key order for output, but two maps
/// with the same entries are equal whatever their order (JSON objects are unordered; the API
/// server and kustomize order keys differently).
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    /// An integer above `Int.max` that still fits 64 unsigned bits (go-yaml reads those as uint64,
    /// and kustomize prints them exactly).
    case uint(UInt)
    case double(Double)
    case string(String)
    case list([Value])
    case map(ValueMap)
}

extension Value {
    public static func == (a: Value, b: Value) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.uint(let x), .uint(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        case (.map(let x), .map(let y)):
            guard x.count == y.count else { return false }
            for (key, value) in x {
                guard let other = y[key], other == value else { return false }
            }
            return true
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .int(let i): hasher.combine(2); hasher.combine(i)
        case .uint(let u): hasher.combine(7); hasher.combine(u)
        case .double(let d): hasher.combine(3); hasher.combine(d)
        case .string(let s): hasher.combine(4); hasher.combine(s)
        case .list(let items): hasher.combine(5); hasher.combine(items)
        case .map(let map):
            // Order-independent: the entries' hashes are summed.
            hasher.combine(6)
            hasher.combine(map.count)
            var sum = 0
            for (key, value) in map {
                var entry = Hasher()
                entry.combine(key)
                entry.combine(value)
                sum &+= entry.finalize()
            }
            hasher.combine(sum)
        }
    }

    /// An empty map.
    public static var emptyMap: Value { .map([:]) }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer, if this is an integer.
    public var intValue: Int? {
        if case .int(let i) = self { return i }
        return nil
    }

    /// The number, if this is one (integers as doubles).
    public var numberValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .uint(let u): Double(u)
        case .double(let d): d
        default: nil
        }
    }

    /// The boolean, if this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The map, if this is a map.
    public var mapValue: ValueMap? {
        if case .map(let m) = self { return m }
        return nil
    }

    /// The list, if this is a list.
    public var listValue: [Value]? {
        if case .list(let l) = self { return l }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The text of a scalar as YAML writes it (`8080`, `true`, `null`, `1.5`); `nil` for lists and maps.
    public var scalarText: String? {
        switch self {
        case .string(let s): s
        case .int(let i): String(i)
        case .uint(let u): String(u)
        case .double(let d): d.description
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        case .list, .map: nil
        }
    }

    /// A short name of the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .uint: "integer"
        case .double: "number"
        case .string: "string"
        case .list: "list"
        case .map: "map"
        }
    }

    /// The member `key` of a map; `nil` for a missing key or a value that is not a map.
    public subscript(key: String) -> Value? {
        get {
            if case .map(let m) = self { return m[key] }
            return nil
        }
        set {
            guard case .map(var m) = self else { return }
            self = .null  // release the storage so the edit below happens in place
            m[key] = newValue
            self = .map(m)
        }
    }

    /// The value at a path of map keys, or `nil` when any step is missing.
    public subscript(path path: [String]) -> Value? {
        var current = self
        for key in path {
            guard let next = current[key] else { return nil }
            current = next
        }
        return current
    }

    /// Sets the value at a path of map keys, creating intermediate maps where they are missing.
    /// Does nothing when a step on the way exists but is not a map.
    public mutating func set(path: [String], to newValue: Value) {
        set(steps: path[...], to: newValue)
    }

    /// ``set(path:to:)`` for any collection of keys.
    public mutating func set(path: some Collection<String>, to newValue: Value) {
        set(steps: ArraySlice(path), to: newValue)
    }

    // Not generic: callers in other modules would otherwise run an unspecialized copy.
    private mutating func set(steps path: ArraySlice<String>, to newValue: Value) {
        guard let first = path.first else {
            self = newValue
            return
        }
        guard case .map(var m) = self else { return }
        self = .null  // keep the map's storage uniquely referenced while editing it
        if let index = m.index(forKey: first) {
            var child = m.values[index]
            m.values[index] = .null
            if path.count > 1, child.isNull { child = .emptyMap }
            child.set(steps: path.dropFirst(), to: newValue)
            m.values[index] = child
        } else {
            var child = Value.emptyMap
            child.set(steps: path.dropFirst(), to: newValue)
            m[first] = child
        }
        self = .map(m)
    }
}

// Deliberately not ExpressibleByNilLiteral: `cond ? value : nil` would quietly become `.null`
// where an optional was meant. Write `.null`.
extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: Value...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        self = .map(ValueMap(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// One step of a path into a value, by map key or list index.
extension Value {
    /// Replaces the value at `path` (map keys as strings, list indices as integers) when
    /// every step exists; does nothing otherwise.
    public mutating func replaceExisting(at path: ArraySlice<some PathComponent>, with newValue: Value) {
        guard let step = path.first else {
            self = newValue
            return
        }
        switch (self, step.asKeyOrIndex) {
        case (.map(var m), .key(let key)):
            guard let index = m.index(forKey: key) else { return }
            self = .null
            m.values[index].replaceExisting(at: path.dropFirst(), with: newValue)
            self = .map(m)
        case (.list(var items), .index(let i)):
            guard items.indices.contains(i) else { return }
            self = .null
            items[i].replaceExisting(at: path.dropFirst(), with: newValue)
            self = .list(items)
        default:
            return
        }
    }
}

/// Something that names a step into a ``Value``: a map key or a list index.
public protocol PathComponent {
    var asKeyOrIndex: KeyOrIndex { get }
}

/// A map key or a list index.
public enum KeyOrIndex: Sendable, Hashable {
    case key(String)
    case index(Int)
}
