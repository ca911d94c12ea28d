import TaiCore

/// The order objects are applied in (deletions run in reverse).
public enum Stage: Int, Comparable, Sendable, CaseIterable {
    case namespaces
    case crds
    case identity  // ServiceAccounts and RBAC
    case configuration  // ConfigMaps and Secrets
    case storage  // PersistentVolumeClaims
    case services
    case workloads
    case autoscalers
    case customResources
    case other

    public static func < (a: Stage, b: Stage) -> Bool { a.rawValue < b.rawValue }

    public static func of(apiVersion: String, kind: String) -> Stage {
        let group = GroupVersionKind(apiVersion: apiVersion, kind: "").group
        switch (group, kind) {
        case ("", "Namespace"): return .namespaces
        case ("apiextensions.k8s.io", "CustomResourceDefinition"): return .crds
        case ("", "ServiceAccount"), ("rbac.authorization.k8s.io", _): return .identity
        case ("", "ConfigMap"), ("", "Secret"): return .configuration
        case ("", "PersistentVolumeClaim"), ("", "PersistentVolume"), ("storage.k8s.io", _): return .storage
        case ("", "Service"), ("", "Endpoints"), ("networking.k8s.io", "Ingress"): return .services
        case ("apps", _), ("batch", _), ("", "Pod"), ("", "ReplicationController"): return .workloads
        case ("autoscaling", "HorizontalPodAutoscaler"), ("keda.sh", "ScaledObject"), ("keda.sh", "ScaledJob"): return .autoscalers
        default:
            let builtinGroups: Set<String> = ["", "apps", "batch", "networking.k8s.io", "policy", "rbac.authorization.k8s.io", "autoscaling",
                "coordination.k8s.io", "storage.k8s.io", "scheduling.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "node.k8s.io", "discovery.k8s.io"]
            return builtinGroups.contains(group) ? .other : .customResources
        }
    }
}
