import Foundation

/// What the built-in Kubernetes types say about merging their fields: strategic-merge patch
/// strategies and keys, server-side-apply list types and keys, and which struct a field holds.
///
/// Read from `list-semantics.json` (Kubernetes 1.32 type definitions), bundled with this module.
public struct KubeSchema: Sendable {
    /// One field of a type.
    public struct Field: Sendable, Equatable {
        /// The field's type: a struct type name (`core/v1.Container`), a scalar name, or
        /// `map[string]X`; for a list, the element type.
        public var type: String
        public var isList: Bool
        public var patchStrategy: String?
        public var patchMergeKey: String?
        public var listType: String?
        public var listMapKeys: [String]
        /// `atomic` for maps owned as a whole by server-side apply; nil = granular.
        public var mapType: String? = nil
        /// `atomic` when the struct held by this field is owned as a whole.
        public var structType: String? = nil
        /// The defaults the published schema records for list-map key fields (`protocol: TCP`).
        public var listMapKeyDefaults: [String: Value] = [:]
        /// The field's `+default`, if any.
        public var defaultValue: Value? = nil
    }

    /// Everything behind one reference, so that copying a schema (it travels inside every
    /// type reference during a merge) costs one retain.
    private final class Storage: Sendable {
        let types: [String: [String: Field]]
        let kinds: [String: String]
        let clusterScoped: Set<String>
        let kustomizeKindsAbsent: Set<String>
        let kustomizeMergeListsMissing: Set<String>
        let kustomizePatchStrategyRemoved: Set<String>

        init(
            types: [String: [String: Field]], kinds: [String: String], clusterScoped: Set<String>, kustomizeKindsAbsent: Set<String>,
            kustomizeMergeListsMissing: Set<String>, kustomizePatchStrategyRemoved: Set<String>
        ) {
            self.types = types
            self.kinds = kinds
            self.clusterScoped = clusterScoped
            self.kustomizeKindsAbsent = kustomizeKindsAbsent
            self.kustomizeMergeListsMissing = kustomizeMergeListsMissing
            self.kustomizePatchStrategyRemoved = kustomizePatchStrategyRemoved
        }
    }

    private let storage: Storage
    private var types: [String: [String: Field]] { storage.types }
    private var kinds: [String: String] { storage.kinds }
    private var clusterScoped: Set<String> { storage.clusterScoped }
    /// Notes on how kustomize's embedded (v1.21.2) schema differs; see `list-semantics.md`.
    public var kustomizeKindsAbsent: Set<String> { storage.kustomizeKindsAbsent }
    public var kustomizeMergeListsMissing: Set<String> { storage.kustomizeMergeListsMissing }
    public var kustomizePatchStrategyRemoved: Set<String> { storage.kustomizePatchStrategyRemoved }

    /// The schema bundled with tai-gitops.
    public static let builtin: KubeSchema = {
        guard let url = Bundle.module.url(forResource: "list-semantics", withExtension: "json"),
            let data = try? Data(contentsOf: url), let value = try? JSON.parse([UInt8](data))
        else {
            // The file is part of the module; without it the build itself is broken.
            fatalError("tai-gitops: the bundled list-semantics.json is missing or unreadable")
        }
        return KubeSchema(value)
    }()

    init(_ root: Value) {
        var types: [String: [String: Field]] = [:]
        for (name, entry) in root.mapValue ?? [:] where !name.hasPrefix("_") {
            var fields: [String: Field] = [:]
            for (fieldName, info) in entry.mapValue ?? [:] where !fieldName.hasPrefix("_") {
                fields[fieldName] = Field(
                    type: info["type"]?.stringValue ?? "",
                    isList: info["list"]?.boolValue ?? false,
                    patchStrategy: info["patchStrategy"]?.stringValue,
                    patchMergeKey: info["patchMergeKey"]?.stringValue,
                    listType: info["listType"]?.stringValue,
                    listMapKeys: info["listMapKeys"]?.listValue?.compactMap(\.stringValue) ?? [],
                    mapType: info["mapType"]?.stringValue,
                    structType: info["structType"]?.stringValue,
                    listMapKeyDefaults: info["listMapKeyDefaults"]?.mapValue.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.key, $0.value) }) } ?? [:],
                    defaultValue: info["default"])
            }
            types[name] = fields
        }
        var kinds: [String: String] = [:]
        for (key, type) in root["_kinds"]?.mapValue ?? [:] { kinds[key] = type.stringValue }
        let clusterScoped = Set(root["_clusterScopedKinds"]?.listValue?.compactMap(\.stringValue) ?? [])
        let kustomize = root["_kustomize"]
        let kustomizeKindsAbsent = Set(kustomize?["kindsAbsentFromBuiltinSchema"]?.listValue?.compactMap(\.stringValue) ?? [])
        let kustomizeMergeListsMissing = Set(kustomize?["mergeListsMissingFromBuiltinSchema"]?.listValue?.compactMap(\.stringValue) ?? [])
        let kustomizePatchStrategyRemoved = Set(
            kustomize?["patchMetadataDifferences"]?.listValue?.compactMap { entry -> String? in
                guard let field = entry["field"]?.stringValue, entry["kustomizeSchema"]?.listValue?.first == .null else { return nil }
                return field
            } ?? [])
        storage = Storage(
            types: types, kinds: kinds, clusterScoped: clusterScoped, kustomizeKindsAbsent: kustomizeKindsAbsent,
            kustomizeMergeListsMissing: kustomizeMergeListsMissing, kustomizePatchStrategyRemoved: kustomizePatchStrategyRemoved)
    }

    /// The type name of a kind's objects: `apps/v1` + `Deployment` → `apps/v1.Deployment`.
    public func typeName(apiVersion: String, kind: String) -> String? {
        kinds[Self.kindKey(apiVersion: apiVersion, kind: kind)]
    }

    /// A field of a struct type.
    public func field(_ name: String, of type: String) -> Field? {
        types[type]?[name]
    }

    /// All fields of a struct type.
    public func fields(of type: String) -> [String: Field]? { types[type] }

    /// Whether a kind is cluster-scoped (from the bundled schema's list).
    public func isClusterScoped(apiVersion: String, kind: String) -> Bool {
        clusterScoped.contains(Self.kindKey(apiVersion: apiVersion, kind: kind))
    }

    /// `apps/v1/Deployment`, `core/v1/Service`: how the bundled schema names a kind.
    private static func kindKey(apiVersion: String, kind: String) -> String {
        (apiVersion.utf8.contains(UInt8(ascii: "/")) ? apiVersion : "core/" + apiVersion) + "/" + kind
    }

    /// Whether a type name is a struct this schema describes.
    public func isStruct(_ type: String) -> Bool { types[type] != nil }
}
