import Synchronization
import TaiCore

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

    /// Stays the same through renames; what ``SharedValues`` remembers places by.
    let uid: Int

    init(object: Value, origin: String) {
        self.object = object
        self.origin = origin
        uid = nextResourceUID.wrappingAdd(1, ordering: .relaxed).newValue
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
