import Foundation
import NIOConcurrencyHelpers
import OrderedCollections
import TaiCore
import TaiSSA

/// A watch event as the API streams it.
public struct WatchEvent: Sendable {
    public var type: String
    public var object: Value
    var resourceVersion: Int
    var storageKey: String
}

/// The emulated cluster's state: every object, the kinds served (built-in and from CRDs), the
/// resource version counter, recent events and the open watches. Thread-safe.
public final class Cluster: Sendable {
    struct Watcher {
        var storageKey: String
        var namespace: String?
        var matches: @Sendable (Value) -> Bool
        var send: @Sendable (WatchEvent) -> Void
    }

    struct State {
        var objects: [String: OrderedDictionary<String, Value>] = [:]
        var resourceVersion = 100
        var customTypes: [String: [ResourceType]] = [:]
        var history: [WatchEvent] = []
        var watchers: [Int: Watcher] = [:]
        var nextWatcher = 1
        var nextIP = 10
        var requests: [String: Int] = [:]
        /// Successful writes by field manager (the user agent's product for deletes).
        var writes: [String: Int] = [:]
    }

    let state = NIOLockedValueBox(State())
    let schema = KubeSchema.builtin
    static let historyLimit = 20_000

    public init() {}

    /// Every kind served now: the built-in ones and those registered by CRDs.
    public var resourceTypes: [ResourceType] {
        ResourceType.builtin + state.withLockedValue { state in state.customTypes.keys.sorted().flatMap { state.customTypes[$0] ?? [] } }
    }

    /// The kind served at `group/version` under a plural name.
    func resourceType(group: String, version: String, plural: String) -> ResourceType? {
        if let builtin = Self.builtinByPlural[BuiltinKey(group, version, plural)] { return builtin }
        return customTypes.first { $0.group == group && $0.version == version && $0.plural == plural }
    }

    func resourceType(apiVersion: String, kind: String) -> ResourceType? {
        if let builtin = Self.builtinByKind[BuiltinKey(apiVersion, kind, "")] { return builtin }
        return customTypes.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }

    /// Kinds registered by CRDs, in a stable order.
    private var customTypes: [ResourceType] {
        state.withLockedValue { state in state.customTypes.keys.sorted().flatMap { state.customTypes[$0] ?? [] } }
    }

    /// Looked up on every request: the built-in kinds by group, version and plural, and by apiVersion and kind.
    private struct BuiltinKey: Hashable {
        var a: String, b: String, c: String
        init(_ a: String, _ b: String, _ c: String) { (self.a, self.b, self.c) = (a, b, c) }
    }
    private static let builtinByPlural: [BuiltinKey: ResourceType] = {
        var map: [BuiltinKey: ResourceType] = [:]
        for type in ResourceType.builtin where map[BuiltinKey(type.group, type.version, type.plural)] == nil {
            map[BuiltinKey(type.group, type.version, type.plural)] = type
        }
        return map
    }()
    private static let builtinByKind: [BuiltinKey: ResourceType] = {
        var map: [BuiltinKey: ResourceType] = [:]
        for type in ResourceType.builtin where map[BuiltinKey(type.apiVersion, type.kind, "")] == nil {
            map[BuiltinKey(type.apiVersion, type.kind, "")] = type
        }
        return map
    }()

    static func objectKey(namespace: String?, name: String) -> String { "\(namespace ?? "")/\(name)" }

    func get(_ type: ResourceType, namespace: String?, name: String) -> Value? {
        state.withLockedValue { $0.objects[type.storageKey]?[Self.objectKey(namespace: namespace, name: name)] }
    }

    /// Objects of a kind (in one namespace or all), in name order, and the current resource version.
    func list(_ type: ResourceType, namespace: String?) -> ([Value], Int) {
        state.withLockedValue { state in
            let all = state.objects[type.storageKey] ?? [:]
            var items: [Value] = []
            for (key, value) in all where namespace == nil || key.hasPrefix(namespace! + "/") { items.append(value) }
            items.sort { (Self.sortKey($0)) < (Self.sortKey($1)) }
            return (items, state.resourceVersion)
        }
    }

    private static func sortKey(_ v: Value) -> String {
        (v[path: ["metadata", "namespace"]]?.stringValue ?? "") + "/" + (v[path: ["metadata", "name"]]?.stringValue ?? "")
    }

    /// Stores an object (created or replaced) with the next resource version and tells watchers.
    @discardableResult
    func store(_ type: ResourceType, _ object: Value, eventType: String) -> Value {
        state.withLockedValue { state in
            state.resourceVersion += 1
            var object = object
            object.set(path: ["metadata", "resourceVersion"], to: .string(String(state.resourceVersion)))
            let key = Self.objectKey(namespace: object[path: ["metadata", "namespace"]]?.stringValue, name: object[path: ["metadata", "name"]]?.stringValue ?? "")
            state.objects[type.storageKey, default: [:]][key] = object
            Self.publish(&state, WatchEvent(type: eventType, object: object, resourceVersion: state.resourceVersion, storageKey: type.storageKey))
            return object
        }
    }

    func remove(_ type: ResourceType, namespace: String?, name: String) -> Value? {
        state.withLockedValue { state in
            let key = Self.objectKey(namespace: namespace, name: name)
            guard var object = state.objects[type.storageKey]?.removeValue(forKey: key) else { return nil }
            state.resourceVersion += 1
            object.set(path: ["metadata", "resourceVersion"], to: .string(String(state.resourceVersion)))
            Self.publish(&state, WatchEvent(type: "DELETED", object: object, resourceVersion: state.resourceVersion, storageKey: type.storageKey))
            return object
        }
    }

    private static func publish(_ state: inout State, _ event: WatchEvent) {
        state.history.append(event)
        if state.history.count > historyLimit { state.history.removeFirst(state.history.count - historyLimit / 2) }
        for watcher in state.watchers.values where watcher.storageKey == event.storageKey {
            if let ns = watcher.namespace, event.object[path: ["metadata", "namespace"]]?.stringValue != ns { continue }
            if watcher.matches(event.object) { watcher.send(event) }
        }
    }

    /// Opens a watch: replays what happened after `since` (or, without it, sends every current
    /// object as ADDED), then streams changes until `cancelWatch`.
    func watch(
        _ type: ResourceType, namespace: String?, since: Int?, matches: @escaping @Sendable (Value) -> Bool,
        send: @escaping @Sendable (WatchEvent) -> Void
    ) -> Int {
        state.withLockedValue { state in
            if let since {
                for event in state.history where event.resourceVersion > since && event.storageKey == type.storageKey {
                    if let ns = namespace, event.object[path: ["metadata", "namespace"]]?.stringValue != ns { continue }
                    if matches(event.object) { send(event) }
                }
            } else {
                for (key, object) in state.objects[type.storageKey] ?? [:] where namespace == nil || key.hasPrefix(namespace! + "/") {
                    if matches(object) {
                        send(WatchEvent(type: "ADDED", object: object, resourceVersion: state.resourceVersion, storageKey: type.storageKey))
                    }
                }
            }
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = Watcher(storageKey: type.storageKey, namespace: namespace, matches: matches, send: send)
            return id
        }
    }

    func cancelWatch(_ id: Int) {
        _ = state.withLockedValue { $0.watchers.removeValue(forKey: id) }
    }

    func allocateClusterIP() -> String {
        state.withLockedValue { state in
            state.nextIP += 1
            return "10.96.\(state.nextIP / 250).\(state.nextIP % 250 + 1)"
        }
    }

    /// Counts a request for `/metrics`.
    func count(verb: String, resource: String, code: Int) {
        state.withLockedValue { $0.requests["\(verb)\u{0}\(resource)\u{0}\(code)", default: 0] += 1 }
    }

    /// Counts a write that changed (or would have changed) the cluster, by who made it.
    func countWrite(by manager: String) {
        state.withLockedValue { $0.writes[manager, default: 0] += 1 }
    }

    /// Successful writes by field manager, for tests.
    public func writes(by manager: String) -> Int { state.withLockedValue { $0.writes[manager] ?? 0 } }

    /// Request counts in the Prometheus text format.
    public func metricsText() -> String {
        let counts = state.withLockedValue { $0.requests }
        var lines = [
            "# HELP apiserver_request_total Requests served by the tai-gitops cluster emulator, by verb, resource and code.",
            "# TYPE apiserver_request_total counter",
        ]
        for (key, value) in counts.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false)
            lines.append("apiserver_request_total{verb=\"\(parts[0])\",resource=\"\(parts[1])\",code=\"\(parts[2])\"} \(value)")
        }
        lines.append("# HELP apiserver_writes_total Successful writes by field manager (deletes: by user agent).")
        lines.append("# TYPE apiserver_writes_total counter")
        for (manager, value) in state.withLockedValue({ $0.writes }).sorted(by: { $0.key < $1.key }) {
            lines.append("apiserver_writes_total{field_manager=\"\(manager)\"} \(value)")
        }
        let objects = state.withLockedValue { $0.objects.values.reduce(0) { $0 + $1.count } }
        lines.append("# HELP apiserver_storage_objects Objects stored.")
        lines.append("# TYPE apiserver_storage_objects gauge")
        lines.append("apiserver_storage_objects \(objects)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Total requests counted for a verb (all resources and codes), for tests and benchmarks.
    public func requestCount(verb: String? = nil) -> Int {
        state.withLockedValue { state in
            state.requests.filter { verb == nil || $0.key.hasPrefix(verb! + "\u{0}") }.values.reduce(0, +)
        }
    }

    /// Registers (or re-registers) the kinds a CRD defines.
    func registerCRD(_ crd: Value) {
        guard let name = crd[path: ["metadata", "name"]]?.stringValue, let group = crd[path: ["spec", "group"]]?.stringValue,
            let kind = crd[path: ["spec", "names", "kind"]]?.stringValue, let plural = crd[path: ["spec", "names", "plural"]]?.stringValue
        else { return }
        let names = crd[path: ["spec", "names"]]
        var types: [ResourceType] = []
        for version in crd[path: ["spec", "versions"]]?.listValue ?? [] where version["served"]?.boolValue != false {
            guard let v = version["name"]?.stringValue else { continue }
            var subresources: [String] = []
            if version[path: ["subresources", "status"]] != nil { subresources.append("status") }
            if version[path: ["subresources", "scale"]] != nil { subresources.append("scale") }
            types.append(ResourceType(
                group: group, version: v, kind: kind, plural: plural, singular: names?["singular"]?.stringValue ?? kind.lowercased(),
                namespaced: crd[path: ["spec", "scope"]]?.stringValue != "Cluster",
                shortNames: names?["shortNames"]?.listValue?.compactMap(\.stringValue) ?? [],
                categories: names?["categories"]?.listValue?.compactMap(\.stringValue) ?? [],
                subresources: subresources, strategicMerge: false))
        }
        state.withLockedValue { $0.customTypes[name] = types }
    }

    /// Forgets a CRD's kinds and deletes its objects.
    func unregisterCRD(_ name: String) {
        let types = state.withLockedValue { $0.customTypes.removeValue(forKey: name) } ?? []
        for type in types.prefix(1) {
            let (items, _) = list(type, namespace: nil)
            for item in items {
                _ = remove(type, namespace: item[path: ["metadata", "namespace"]]?.stringValue, name: item[path: ["metadata", "name"]]?.stringValue ?? "")
            }
        }
    }

    /// Every object, for saving the state.
    public func allObjects() -> [Value] {
        state.withLockedValue { state in
            state.objects.keys.sorted().flatMap { state.objects[$0].map { Array($0.values) } ?? [] }
        }
    }
}
