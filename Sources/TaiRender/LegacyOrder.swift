import TaiCore

/// kustomize's default ("legacy") output order: Namespaces first, then a fixed list of kinds
/// that others depend on, then everything else by group/version/kind, webhooks last; within a
/// type by namespace (none last), then name.
enum LegacyOrder {
    static let first = [
        "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
        "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap", "Secret",
        "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume", "PersistentVolumeClaim", "Deployment",
        "StatefulSet", "CronJob", "PodDisruptionBudget",
    ]
    static let last = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]

    static let rank: [String: Int] = {
        var m: [String: Int] = [:]
        for (i, kind) in first.enumerated() { m[kind] = -first.count + i }
        for (i, kind) in last.enumerated() { m[kind] = 1 + i }
        return m
    }()

    static func gvkString(_ gvk: GroupVersionKind) -> String {
        (gvk.group.isEmpty ? "~G" : gvk.group) + "_" + (gvk.version.isEmpty ? "~V" : gvk.version) + "_"
            + (gvk.kind.isEmpty ? "~K" : gvk.kind)
    }

    /// A rank table from custom `orderFirst` / `orderLast` lists (`sortOptions.legacySortOptions`).
    static func rank(first: [String], last: [String]) -> [String: Int] {
        var m: [String: Int] = [:]
        for (i, kind) in first.enumerated() { m[kind] = -first.count + i }
        for (i, kind) in last.enumerated() { m[kind] = 1 + i }
        return m
    }

    static func sorted(_ resources: [Resource], rank: [String: Int] = LegacyOrder.rank) -> [Resource] {
        let keyed = resources.map { r -> (rank: Int, gvk: String, rest: String, resource: Resource) in
            let gvk = gvkString(r.gvk)
            let ns = r.namespace.isEmpty ? "~X" : r.namespace
            let name = r.name.isEmpty ? "~N" : r.name
            return (rank[r.kind] ?? 0, gvk, gvk + "|" + ns + "|" + name, r)
        }
        return keyed.sorted { a, b in
            if a.gvk != b.gvk {
                if a.rank != b.rank { return a.rank < b.rank }
                return a.gvk.utf8.lexicographicallyPrecedes(b.gvk.utf8)
            }
            return a.rest.utf8.lexicographicallyPrecedes(b.rest.utf8)
        }.map(\.resource)
    }
}
