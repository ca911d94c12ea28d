import TaiCore
import TaiSSA

/// One kind the emulated API server serves: how it is named in URLs, discovery and errors.
public struct ResourceType: Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String
    /// The plural resource name used in URLs (`deployments`).
    public var plural: String
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    /// Subresources served (`status`, `scale`).
    public var subresources: [String]
    /// Whether strategic-merge patches are accepted (built-in kinds only).
    public var strategicMerge: Bool
    /// Whether writes to the main resource ignore `status` (the status subresource is enabled).
    public var hasStatusSubresource: Bool

    public init(
        group: String, version: String, kind: String, plural: String, singular: String? = nil, namespaced: Bool,
        shortNames: [String] = [], categories: [String] = [], subresources: [String] = [], strategicMerge: Bool = true,
        hasStatusSubresource: Bool? = nil
    ) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.singular = singular ?? kind.lowercased()
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.subresources = subresources
        self.strategicMerge = strategicMerge
        self.hasStatusSubresource = hasStatusSubresource ?? subresources.contains("status")
    }

    /// `apps/v1`, or `v1` for the core group.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The resource as errors name it: `deployments.apps`, `configmaps`.
    public var qualifiedPlural: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// The kind as errors name it: `Deployment.apps`, `ConfigMap`.
    public var qualifiedKind: String { group.isEmpty ? kind : "\(kind).\(group)" }

    /// The URL prefix of the group-version: `/api/v1` or `/apis/apps/v1`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// Storage key shared by every version of the kind.
    var storageKey: String { "\(group)/\(plural)" }

    static let standardVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
}

extension ResourceType {
    /// The built-in kinds served: those the TAI system and its tooling use.
    public static let builtin: [ResourceType] = [
        // core/v1
        ResourceType(group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false, shortNames: ["ns"], subresources: ["status"]),
        ResourceType(group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true, shortNames: ["cm"]),
        ResourceType(group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true),
        ResourceType(group: "", version: "v1", kind: "Service", plural: "services", namespaced: true, shortNames: ["svc"], categories: ["all"], subresources: ["status"]),
        ResourceType(group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true, shortNames: ["sa"]),
        ResourceType(group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true, shortNames: ["po"], categories: ["all"], subresources: ["status"]),
        ResourceType(group: "", version: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims", namespaced: true, shortNames: ["pvc"], subresources: ["status"]),
        ResourceType(group: "", version: "v1", kind: "PersistentVolume", plural: "persistentvolumes", namespaced: false, shortNames: ["pv"], subresources: ["status"]),
        ResourceType(group: "", version: "v1", kind: "Event", plural: "events", namespaced: true, shortNames: ["ev"]),
        ResourceType(group: "", version: "v1", kind: "Endpoints", plural: "endpoints", namespaced: true, shortNames: ["ep"]),
        ResourceType(group: "", version: "v1", kind: "ResourceQuota", plural: "resourcequotas", namespaced: true, shortNames: ["quota"], subresources: ["status"]),
        ResourceType(group: "", version: "v1", kind: "LimitRange", plural: "limitranges", namespaced: true, shortNames: ["limits"]),
        // apps/v1
        ResourceType(group: "apps", version: "v1", kind: "Deployment", plural: "deployments", namespaced: true, shortNames: ["deploy"], categories: ["all"], subresources: ["status", "scale"]),
        ResourceType(group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets", namespaced: true, shortNames: ["sts"], categories: ["all"], subresources: ["status", "scale"]),
        ResourceType(group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets", namespaced: true, shortNames: ["ds"], categories: ["all"], subresources: ["status"]),
        ResourceType(group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", namespaced: true, shortNames: ["rs"], categories: ["all"], subresources: ["status", "scale"]),
        // batch/v1
        ResourceType(group: "batch", version: "v1", kind: "Job", plural: "jobs", namespaced: true, categories: ["all"], subresources: ["status"]),
        ResourceType(group: "batch", version: "v1", kind: "CronJob", plural: "cronjobs", namespaced: true, shortNames: ["cj"], categories: ["all"], subresources: ["status"]),
        // networking.k8s.io/v1
        ResourceType(group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies", namespaced: true, shortNames: ["netpol"]),
        ResourceType(group: "networking.k8s.io", version: "v1", kind: "Ingress", plural: "ingresses", namespaced: true, shortNames: ["ing"], subresources: ["status"]),
        // rbac.authorization.k8s.io/v1
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles", namespaced: true),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", plural: "rolebindings", namespaced: true),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", plural: "clusterroles", namespaced: false),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRoleBinding", plural: "clusterrolebindings", namespaced: false),
        // autoscaling/v2
        ResourceType(group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers", namespaced: true, shortNames: ["hpa"], categories: ["all"], subresources: ["status"]),
        // policy/v1
        ResourceType(group: "policy", version: "v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets", namespaced: true, shortNames: ["pdb"], subresources: ["status"]),
        // coordination.k8s.io/v1
        ResourceType(group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true),
        // apiextensions.k8s.io/v1
        ResourceType(group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", plural: "customresourcedefinitions", namespaced: false, shortNames: ["crd", "crds"], subresources: ["status"]),
    ]
}
