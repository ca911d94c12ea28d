import Synchronization
import TaiCore
import TaiYAML

/// Hands out identities for resources that stay stable while they are renamed and moved.
private let nextResourceUID = Atomic<Int>(0)

/// One object being rendered, with what kustomize remembers about it on the way: the names it
/// had before prefixes, suffixes and namespaces changed them (so references can follow), and
/// the file it came from (for errors).
public struct Resource: Sendable {
    /// A name and namespace the resource had before a transformer changed them.
    struct PreviousID: Sendable, Equatable {
        var kind: String
        var name: String
        /// The namespace as kustomize records it: `default` when the object had none.
        var namespace: String
    }

    /// The object itself.
    public var object: Value
    /// The file this object was read from.
    public var origin: String
    var previousIDs: [PreviousID] = []
    var prefixes: [String] = []
    var suffixes: [String] = []
    /// A generated object whose name gets kustomize's content hash at the end of the build.
    var needsHashSuffix = false
    /// How a generated object meets an existing one of the same identity.
    var behavior: GeneratorBehavior = .create
    /// The behavior a generator was given, as kustomize notes it on what it generates
    /// (`unspecified` when none was); nil for objects not generated.
    var generatorBehaviorNote: String?
    /// One step of a path into an object: a map key or a list position.
    enum PathStep: Equatable, Sendable {
        case key(String)
        case index(Int)

        init(_ step: YAMLPathStep) {
            switch step {
            case .key(let key): self = .key(key)
            case .index(let index): self = .index(index)
            }
        }
    }

    /// Scalars a replacement created (their path and text) that kustomize holds untagged: they
    /// print plain and read back by the YAML rules (`1`, `true`) until a strategic merge patch
    /// walks the object and tags them as strings (`"1"`, `"true"`).
    var untaggedScalars: [(path: [PathStep], text: String)] = []

    /// Fields written with no value at all (`replicas:`): `null` like any other, but a strategic
    /// merge patch drops those it walks over, where it keeps a written `null` or `~`.
    var emptyNulls: [[PathStep]] = []

    /// The text annotations that are not strings were written with (`"1.50"` for `1.50`, `""`
    /// for an empty one), by key: kustomize prints annotations as strings of that text.
    var annotationTexts: [String: String] = [:]

    /// Stays the same through renames; what ``SharedValues`` remembers places by.
    let uid: Int

    init(object: Value, origin: String) {
        self.object = object
        self.origin = origin
        uid = nextResourceUID.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// An object read from a YAML document, with what the document noted about its scalars.
    init(document: YAMLDocument, origin: String) {
        self.init(object: document.value, origin: origin)
        emptyNulls = document.emptyNulls.map { $0.map(PathStep.init) }
        annotationTexts = document.annotationTexts
    }

    var gvk: GroupVersionKind { object.gvk ?? GroupVersionKind(group: "", version: "", kind: "") }
    var kind: String { gvk.kind }
    var name: String { object.name ?? "" }
    var namespace: String { object.namespace }

    /// The identity the object has now.
    public var identity: ObjectIdentity { ObjectIdentity(gvk: gvk, namespace: namespace, name: name) }

    /// The identity the object was read with (before any transformer renamed it).
    var originalName: String { previousIDs.first?.name ?? name }
    var originalNamespace: String {
        if let first = previousIDs.first { return first.namespace }
        return ClusterScope.effectiveNamespace(namespace, kind: kind)
    }

    /// The namespace kustomize compares: `default` for an empty one, nothing for cluster-scoped kinds.
    var effectiveNamespace: String { ClusterScope.effectiveNamespace(namespace, kind: kind) }

    /// The annotations kustomize keeps its notes about this object in while it builds (a JSON
    /// patch sees them in `metadata.annotations`).
    var bookkeepingAnnotations: [(String, String)] {
        let prefix = "internal.config.kubernetes.io/"
        var out: [(String, String)] = []
        if let generatorBehaviorNote { out.append((prefix + "generatorBehavior", generatorBehaviorNote)) }
        if needsHashSuffix { out.append((prefix + "needsHashSuffix", "enabled")) }
        if !prefixes.isEmpty { out.append((prefix + "prefixes", prefixes.joined(separator: ","))) }
        if !previousIDs.isEmpty {
            out.append((prefix + "previousKinds", previousIDs.map(\.kind).joined(separator: ",")))
            out.append((prefix + "previousNames", previousIDs.map(\.name).joined(separator: ",")))
            out.append((prefix + "previousNamespaces", previousIDs.map(\.namespace).joined(separator: ",")))
        }
        if !suffixes.isEmpty { out.append((prefix + "suffixes", suffixes.joined(separator: ","))) }
        return out
    }

    /// Records the current name and namespace as a previous identity, as kustomize does before
    /// a transformer changes them.
    mutating func storePreviousID() {
        previousIDs.append(
            PreviousID(kind: kind, name: name, namespace: namespace.isEmpty ? "default" : namespace))
    }
}

/// Which kinds are cluster-scoped, as kustomize decides it for built-in types (anything else,
/// custom resources included, counts as namespaced).
enum ClusterScope {
    static let clusterScopedKinds: Set<String> = [
        "APIService", "CSIDriver", "CSINode", "CertificateSigningRequest", "Cluster", "ClusterRole",
        "ClusterRoleBinding", "ComponentStatus", "CustomResourceDefinition", "FlowSchema", "IngressClass",
        "MutatingWebhookConfiguration", "Namespace", "Node", "PersistentVolume", "PodSecurityPolicy",
        "PriorityClass", "PriorityLevelConfiguration", "RuntimeClass", "SelfSubjectAccessReview",
        "SelfSubjectRulesReview", "StorageClass", "SubjectAccessReview", "TokenReview",
        "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration",
        "VolumeAttachment",
    ]

    static func isClusterScoped(_ kind: String) -> Bool { clusterScopedKinds.contains(kind) }

    static func effectiveNamespace(_ namespace: String, kind: String) -> String {
        if isClusterScoped(kind) { return "" }
        return namespace.isEmpty ? "default" : namespace
    }
}

extension Value {
    /// The value at a path of keys and list positions; setting writes only where the path exists.
    subscript(steps path: [Resource.PathStep]) -> Value? {
        get {
            var node = self
            for step in path {
                switch (step, node) {
                case (.key(let key), .map(let map)):
                    guard let child = map[key] else { return nil }
                    node = child
                case (.index(let i), .list(let items)) where items.indices.contains(i):
                    node = items[i]
                default:
                    return nil
                }
            }
            return node
        }
        set {
            guard let newValue, let first = path.first else { return }
            let rest = Array(path.dropFirst())
            switch (first, self) {
            case (.key(let key), .map(var map)):
                guard var child = map[key] else { return }
                if rest.isEmpty { child = newValue } else { child[steps: rest] = newValue }
                map[key] = child
                self = .map(map)
            case (.index(let i), .list(var items)) where items.indices.contains(i):
                if rest.isEmpty { items[i] = newValue } else { items[i][steps: rest] = newValue }
                self = .list(items)
            default:
                return
            }
        }
    }

    /// Removes the map entry a path of keys and list positions ends at (nothing when it is missing).
    mutating func removeValue(steps path: [Resource.PathStep]) {
        guard case .key(let last)? = path.last else { return }
        let parent = Array(path.dropLast())
        guard case .map(var map)? = parent.isEmpty ? self : self[steps: parent] else { return }
        map.removeValue(forKey: last)
        if parent.isEmpty { self = .map(map) } else { self[steps: parent] = .map(map) }
    }
}
