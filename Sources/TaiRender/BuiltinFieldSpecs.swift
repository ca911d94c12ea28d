// kustomize v5.5.0's default transformer configuration: which fields each built-in
// transformer touches. Written out as data so the renderer reaches exactly the fields kustomize
// reaches; generated from a compact table, keep it in step with kustomize's
// api/internal/konfig/builtinpluginconsts.

/// The field tables of kustomize's built-in transformers.
enum BuiltinFieldSpecs {
    /// The selectors `commonLabels` extends.
    static let selectorLabels: [FieldSpec] = [
        FieldSpec("spec/selector", version: "v1", kind: "Service", create: true),
        FieldSpec("spec/selector", version: "v1", kind: "ReplicationController", create: true),
        FieldSpec("spec/selector/matchLabels", kind: "Deployment", create: true),
        FieldSpec("spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels", group: "apps", kind: "Deployment"),
        FieldSpec("spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels", group: "apps", kind: "Deployment"),
        FieldSpec("spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels", group: "apps", kind: "Deployment"),
        FieldSpec("spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels", group: "apps", kind: "Deployment"),
        FieldSpec("spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels", group: "apps", kind: "Deployment"),
        FieldSpec("spec/selector/matchLabels", kind: "ReplicaSet", create: true),
        FieldSpec("spec/selector/matchLabels", kind: "DaemonSet", create: true),
        FieldSpec("spec/selector/matchLabels", group: "apps", kind: "StatefulSet", create: true),
        FieldSpec("spec/volumeClaimTemplates[]/metadata/labels", group: "apps", kind: "StatefulSet", create: true),
        FieldSpec("spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels", group: "apps", kind: "StatefulSet"),
        FieldSpec("spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels", group: "apps", kind: "StatefulSet"),
        FieldSpec("spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels", group: "apps", kind: "StatefulSet"),
        FieldSpec("spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels", group: "apps", kind: "StatefulSet"),
        FieldSpec("spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels", group: "apps", kind: "StatefulSet"),
        FieldSpec("spec/selector/matchLabels", group: "batch", kind: "Job"),
        FieldSpec("spec/jobTemplate/spec/selector/matchLabels", group: "batch", kind: "CronJob"),
        FieldSpec("spec/selector/matchLabels", group: "policy", kind: "PodDisruptionBudget"),
        FieldSpec("spec/podSelector/matchLabels", group: "networking.k8s.io", kind: "NetworkPolicy"),
        FieldSpec("spec/ingress/from/podSelector/matchLabels", group: "networking.k8s.io", kind: "NetworkPolicy"),
        FieldSpec("spec/egress/to/podSelector/matchLabels", group: "networking.k8s.io", kind: "NetworkPolicy"),
    ]

    /// `metadata.labels` and the pod-template labels (`labels` with `includeTemplates`).
    static let templateLabels: [FieldSpec] = [
        FieldSpec("metadata/labels", create: true),
        FieldSpec("spec/template/metadata/labels", version: "v1", kind: "ReplicationController", create: true),
        FieldSpec("spec/template/metadata/labels", kind: "Deployment", create: true),
        FieldSpec("spec/template/metadata/labels", kind: "ReplicaSet", create: true),
        FieldSpec("spec/template/metadata/labels", kind: "DaemonSet", create: true),
        FieldSpec("spec/template/metadata/labels", group: "apps", kind: "StatefulSet", create: true),
        FieldSpec("spec/volumeClaimTemplates[]/metadata/labels", group: "apps", kind: "StatefulSet", create: true),
        FieldSpec("spec/template/metadata/labels", group: "batch", kind: "Job", create: true),
        FieldSpec("spec/jobTemplate/metadata/labels", group: "batch", kind: "CronJob", create: true),
        FieldSpec("spec/jobTemplate/spec/template/metadata/labels", group: "batch", kind: "CronJob", create: true),
    ]

    /// `commonLabels` (and `labels` with `includeSelectors`): selectors and every place metadata labels live.
    static let commonLabels: [FieldSpec] = selectorLabels + templateLabels

    /// `replicas`: the kinds whose `spec.replicas` kustomize sets.
    static let replicas: [FieldSpec] = [
        FieldSpec("spec/replicas", kind: "Deployment", create: true),
        FieldSpec("spec/replicas", kind: "ReplicationController", create: true),
        FieldSpec("spec/replicas", kind: "ReplicaSet", create: true),
        FieldSpec("spec/replicas", kind: "StatefulSet", create: true),
    ]

    /// `commonAnnotations`.
    static let commonAnnotations: [FieldSpec] = [
        FieldSpec("metadata/annotations", create: true),
        FieldSpec("spec/template/metadata/annotations", version: "v1", kind: "ReplicationController", create: true),
        FieldSpec("spec/template/metadata/annotations", kind: "Deployment", create: true),
        FieldSpec("spec/template/metadata/annotations", kind: "ReplicaSet", create: true),
        FieldSpec("spec/template/metadata/annotations", kind: "DaemonSet", create: true),
        FieldSpec("spec/template/metadata/annotations", kind: "StatefulSet", create: true),
        FieldSpec("spec/template/metadata/annotations", group: "batch", kind: "Job", create: true),
        FieldSpec("spec/jobTemplate/metadata/annotations", group: "batch", kind: "CronJob", create: true),
        FieldSpec("spec/jobTemplate/spec/template/metadata/annotations", group: "batch", kind: "CronJob", create: true),
    ]

    /// `namespace`, besides `metadata.namespace` of namespaced kinds.
    static let namespace: [FieldSpec] = [
        FieldSpec("metadata/name", kind: "Namespace", create: true),
        FieldSpec("spec/service/namespace", group: "apiregistration.k8s.io", kind: "APIService", create: true),
        FieldSpec("spec/conversion/webhook/clientConfig/service/namespace", group: "apiextensions.k8s.io", kind: "CustomResourceDefinition"),
    ]

    /// `images`, besides every `containers`/`initContainers` list kustomize finds anywhere.
    static let images: [FieldSpec] = [
        FieldSpec("spec/containers[]/image", create: true),
        FieldSpec("spec/initContainers[]/image", create: true),
        FieldSpec("spec/template/spec/containers[]/image", create: true),
        FieldSpec("spec/template/spec/initContainers[]/image", create: true),
    ]

    /// The name-reference table: which fields of which kinds hold the name of another object.
    static let nameReferences: [(referral: KindSelector, referrers: [FieldSpec])] = [
        (
            KindSelector(group: nil, version: nil, kind: "Deployment"),
            [
                FieldSpec("spec/scaleTargetRef/name", kind: "HorizontalPodAutoscaler"),
            ]
        ),
        (
            KindSelector(group: nil, version: nil, kind: "ReplicationController"),
            [
                FieldSpec("spec/scaleTargetRef/name", kind: "HorizontalPodAutoscaler"),
            ]
        ),
        (
            KindSelector(group: nil, version: nil, kind: "ReplicaSet"),
            [
                FieldSpec("spec/scaleTargetRef/name", kind: "HorizontalPodAutoscaler"),
            ]
        ),
        (
            KindSelector(group: nil, version: nil, kind: "StatefulSet"),
            [
                FieldSpec("spec/scaleTargetRef/name", kind: "HorizontalPodAutoscaler"),
            ]
        ),
        (
            KindSelector(group: nil, version: "v1", kind: "ConfigMap"),
            [
                FieldSpec("spec/volumes/configMap/name", version: "v1", kind: "Pod"),
                FieldSpec("spec/containers/env/valueFrom/configMapKeyRef/name", version: "v1", kind: "Pod"),
                FieldSpec("spec/initContainers/env/valueFrom/configMapKeyRef/name", version: "v1", kind: "Pod"),
                FieldSpec("spec/containers/envFrom/configMapRef/name", version: "v1", kind: "Pod"),
                FieldSpec("spec/initContainers/envFrom/configMapRef/name", version: "v1", kind: "Pod"),
                FieldSpec("spec/volumes/projected/sources/configMap/name", version: "v1", kind: "Pod"),
                FieldSpec("template/spec/volumes/configMap/name", kind: "PodTemplate"),
                FieldSpec("template/spec/containers/env/valueFrom/configMapKeyRef/name", kind: "PodTemplate"),
                FieldSpec("template/spec/initContainers/env/valueFrom/configMapKeyRef/name", kind: "PodTemplate"),
                FieldSpec("template/spec/containers/envFrom/configMapRef/name", kind: "PodTemplate"),
                FieldSpec("template/spec/initContainers/envFrom/configMapRef/name", kind: "PodTemplate"),
                FieldSpec("template/spec/volumes/projected/sources/configMap/name", kind: "PodTemplate"),
                FieldSpec("spec/template/spec/volumes/configMap/name", kind: "Deployment"),
                FieldSpec("spec/template/spec/containers/env/valueFrom/configMapKeyRef/name", kind: "Deployment"),
                FieldSpec("spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name", kind: "Deployment"),
                FieldSpec("spec/template/spec/containers/envFrom/configMapRef/name", kind: "Deployment"),
                FieldSpec("spec/template/spec/initContainers/envFrom/configMapRef/name", kind: "Deployment"),
                FieldSpec("spec/template/spec/volumes/projected/sources/configMap/name", kind: "Deployment"),
                FieldSpec("spec/template/spec/volumes/configMap/name", kind: "ReplicaSet"),
                FieldSpec("spec/template/spec/containers/env/valueFrom/configMapKeyRef/name", kind: "ReplicaSet"),
                FieldSpec("spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name", kind: "ReplicaSet"),
                FieldSpec("spec/template/spec/containers/envFrom/configMapRef/name", kind: "ReplicaSet"),
                FieldSpec("spec/template/spec/initContainers/envFrom/configMapRef/name", kind: "ReplicaSet"),
                FieldSpec("spec/template/spec/volumes/projected/sources/configMap/name", kind: "ReplicaSet"),
                FieldSpec("spec/template/spec/volumes/configMap/name", kind: "DaemonSet"),
                FieldSpec("spec/template/spec/containers/env/valueFrom/configMapKeyRef/name", kind: "DaemonSet"),
                FieldSpec("spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name", kind: "DaemonSet"),
                FieldSpec("spec/template/spec/containers/envFrom/configMapRef/name", kind: "DaemonSet"),
                FieldSpec("spec/template/spec/initContainers/envFrom/configMapRef/name", kind: "DaemonSet"),
                FieldSpec("spec/template/spec/volumes/projected/sources/configMap/name", kind: "DaemonSet"),
                FieldSpec("spec/template/spec/volumes/configMap/name", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/containers/env/valueFrom/configMapKeyRef/name", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/containers/envFrom/configMapRef/name", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/initContainers/envFrom/configMapRef/name", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/volumes/projected/sources/configMap/name", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/volumes/configMap/name", kind: "Job"),
                FieldSpec("spec/template/spec/containers/env/valueFrom/configMapKeyRef/name", kind: "Job"),
                FieldSpec("spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name", kind: "Job"),
                FieldSpec("spec/template/spec/containers/envFrom/configMapRef/name", kind: "Job"),
                FieldSpec("spec/template/spec/initContainers/envFrom/configMapRef/name", kind: "Job"),
                FieldSpec("spec/template/spec/volumes/projected/sources/configMap/name", kind: "Job"),
                FieldSpec("spec/jobTemplate/spec/template/spec/volumes/configMap/name", kind: "CronJob"),
                FieldSpec("spec/jobTemplate/spec/template/spec/volumes/projected/sources/configMap/name", kind: "CronJob"),
                FieldSpec("spec/jobTemplate/spec/template/spec/containers/env/valueFrom/configMapKeyRef/name", kind: "CronJob"),
                FieldSpec("spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name", kind: "CronJob"),
                FieldSpec("spec/jobTemplate/spec/template/spec/containers/envFrom/configMapRef/name", kind: "CronJob"),
                FieldSpec("spec/jobTemplate/spec/template/spec/initContainers/envFrom/configMapRef/name", kind: "CronJob"),
                FieldSpec("spec/configSource/configMap", kind: "Node"),
                FieldSpec("rules/resourceNames", kind: "Role"),
                FieldSpec("rules/resourceNames", kind: "ClusterRole"),
                FieldSpec("metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap", kind: "Ingress"),
            ]
        ),
        (
            KindSelector(group: nil, version: "v1", kind: "Secret"),
            [
                FieldSpec("spec/volumes/secret/secretName", version: "v1", kind: "Pod"),
                FieldSpec("spec/containers/env/valueFrom/secretKeyRef/name", version: "v1", kind: "Pod"),
                FieldSpec("spec/initContainers/env/valueFrom/secretKeyRef/name", version: "v1", kind: "Pod"),
                FieldSpec("spec/containers/envFrom/secretRef/name", version: "v1", kind: "Pod"),
                FieldSpec("spec/initContainers/envFrom/secretRef/name", version: "v1", kind: "Pod"),
                FieldSpec("spec/imagePullSecrets/name", version: "v1", kind: "Pod"),
                FieldSpec("spec/volumes/projected/sources/secret/name", version: "v1", kind: "Pod"),
                FieldSpec("template/spec/volumes/secret/secretName", kind: "PodTemplate"),
                FieldSpec("template/spec/containers/env/valueFrom/secretKeyRef/name", kind: "PodTemplate"),
                FieldSpec("template/spec/initContainers/env/valueFrom/secretKeyRef/name", kind: "PodTemplate"),
                FieldSpec("template/spec/containers/envFrom/secretRef/name", kind: "PodTemplate"),
                FieldSpec("template/spec/initContainers/envFrom/secretRef/name", kind: "PodTemplate"),
                FieldSpec("template/spec/imagePullSecrets/name", kind: "PodTemplate"),
                FieldSpec("template/spec/volumes/projected/sources/secret/name", kind: "PodTemplate"),
                FieldSpec("spec/template/spec/volumes/secret/secretName", kind: "Deployment"),
                FieldSpec("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", kind: "Deployment"),
                FieldSpec("spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name", kind: "Deployment"),
                FieldSpec("spec/template/spec/containers/envFrom/secretRef/name", kind: "Deployment"),
                FieldSpec("spec/template/spec/initContainers/envFrom/secretRef/name", kind: "Deployment"),
                FieldSpec("spec/template/spec/imagePullSecrets/name", kind: "Deployment"),
                FieldSpec("spec/template/spec/volumes/projected/sources/secret/name", kind: "Deployment"),
                FieldSpec("spec/template/spec/volumes/secret/secretName", kind: "ReplicaSet"),
                FieldSpec("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", kind: "ReplicaSet"),
                FieldSpec("spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name", kind: "ReplicaSet"),
                FieldSpec("spec/template/spec/containers/envFrom/secretRef/name", kind: "ReplicaSet"),
                FieldSpec("spec/template/spec/initContainers/envFrom/secretRef/name", kind: "ReplicaSet"),
                FieldSpec("spec/template/spec/imagePullSecrets/name", kind: "ReplicaSet"),
                FieldSpec("spec/template/spec/volumes/projected/sources/secret/name", kind: "ReplicaSet"),
                FieldSpec("spec/template/spec/volumes/secret/secretName", kind: "DaemonSet"),
                FieldSpec("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", kind: "DaemonSet"),
                FieldSpec("spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name", kind: "DaemonSet"),
                FieldSpec("spec/template/spec/containers/envFrom/secretRef/name", kind: "DaemonSet"),
                FieldSpec("spec/template/spec/initContainers/envFrom/secretRef/name", kind: "DaemonSet"),
                FieldSpec("spec/template/spec/imagePullSecrets/name", kind: "DaemonSet"),
                FieldSpec("spec/template/spec/volumes/projected/sources/secret/name", kind: "DaemonSet"),
                FieldSpec("spec/template/spec/volumes/secret/secretName", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/containers/envFrom/secretRef/name", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/initContainers/envFrom/secretRef/name", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/imagePullSecrets/name", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/volumes/projected/sources/secret/name", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/volumes/secret/secretName", kind: "Job"),
                FieldSpec("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", kind: "Job"),
                FieldSpec("spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name", kind: "Job"),
                FieldSpec("spec/template/spec/containers/envFrom/secretRef/name", kind: "Job"),
                FieldSpec("spec/template/spec/initContainers/envFrom/secretRef/name", kind: "Job"),
                FieldSpec("spec/template/spec/imagePullSecrets/name", kind: "Job"),
                FieldSpec("spec/template/spec/volumes/projected/sources/secret/name", kind: "Job"),
                FieldSpec("spec/jobTemplate/spec/template/spec/volumes/secret/secretName", kind: "CronJob"),
                FieldSpec("spec/jobTemplate/spec/template/spec/volumes/projected/sources/secret/name", kind: "CronJob"),
                FieldSpec("spec/jobTemplate/spec/template/spec/containers/env/valueFrom/secretKeyRef/name", kind: "CronJob"),
                FieldSpec("spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name", kind: "CronJob"),
                FieldSpec("spec/jobTemplate/spec/template/spec/containers/envFrom/secretRef/name", kind: "CronJob"),
                FieldSpec("spec/jobTemplate/spec/template/spec/initContainers/envFrom/secretRef/name", kind: "CronJob"),
                FieldSpec("spec/jobTemplate/spec/template/spec/imagePullSecrets/name", kind: "CronJob"),
                FieldSpec("spec/tls/secretName", kind: "Ingress"),
                FieldSpec("metadata/annotations/ingress.kubernetes.io\\/auth-secret", kind: "Ingress"),
                FieldSpec("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret", kind: "Ingress"),
                FieldSpec("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret", kind: "Ingress"),
                FieldSpec("spec/tls/secretName", kind: "Ingress"),
                FieldSpec("imagePullSecrets/name", kind: "ServiceAccount"),
                FieldSpec("parameters/secretName", kind: "StorageClass"),
                FieldSpec("parameters/adminSecretName", kind: "StorageClass"),
                FieldSpec("parameters/userSecretName", kind: "StorageClass"),
                FieldSpec("parameters/secretRef", kind: "StorageClass"),
                FieldSpec("rules/resourceNames", kind: "Role"),
                FieldSpec("rules/resourceNames", kind: "ClusterRole"),
                FieldSpec("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", group: "serving.knative.dev", version: "v1", kind: "Service"),
                FieldSpec("spec/azureFile/secretName", kind: "PersistentVolume"),
            ]
        ),
        (
            KindSelector(group: nil, version: "v1", kind: "Service"),
            [
                FieldSpec("spec/serviceName", group: "apps", kind: "StatefulSet"),
                FieldSpec("spec/rules/http/paths/backend/serviceName", kind: "Ingress"),
                FieldSpec("spec/backend/serviceName", kind: "Ingress"),
                FieldSpec("spec/rules/http/paths/backend/service/name", kind: "Ingress"),
                FieldSpec("spec/defaultBackend/service/name", kind: "Ingress"),
                FieldSpec("spec/service/name", group: "apiregistration.k8s.io", kind: "APIService"),
                FieldSpec("webhooks/clientConfig/service", group: "admissionregistration.k8s.io", kind: "ValidatingWebhookConfiguration"),
                FieldSpec("webhooks/clientConfig/service", group: "admissionregistration.k8s.io", kind: "MutatingWebhookConfiguration"),
            ]
        ),
        (
            KindSelector(group: "rbac.authorization.k8s.io", version: nil, kind: "Role"),
            [
                FieldSpec("roleRef/name", group: "rbac.authorization.k8s.io", kind: "RoleBinding"),
            ]
        ),
        (
            KindSelector(group: "rbac.authorization.k8s.io", version: nil, kind: "ClusterRole"),
            [
                FieldSpec("roleRef/name", group: "rbac.authorization.k8s.io", kind: "RoleBinding"),
                FieldSpec("roleRef/name", group: "rbac.authorization.k8s.io", kind: "ClusterRoleBinding"),
            ]
        ),
        (
            KindSelector(group: nil, version: "v1", kind: "ServiceAccount"),
            [
                FieldSpec("subjects", group: "rbac.authorization.k8s.io", kind: "RoleBinding"),
                FieldSpec("subjects", group: "rbac.authorization.k8s.io", kind: "ClusterRoleBinding"),
                FieldSpec("spec/serviceAccountName", kind: "Pod"),
                FieldSpec("spec/template/spec/serviceAccountName", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/serviceAccountName", kind: "Deployment"),
                FieldSpec("spec/template/spec/serviceAccountName", kind: "ReplicationController"),
                FieldSpec("spec/jobTemplate/spec/template/spec/serviceAccountName", kind: "CronJob"),
                FieldSpec("spec/template/spec/serviceAccountName", kind: "Job"),
                FieldSpec("spec/template/spec/serviceAccountName", kind: "DaemonSet"),
            ]
        ),
        (
            KindSelector(group: nil, version: "v1", kind: "PersistentVolumeClaim"),
            [
                FieldSpec("spec/volumes/persistentVolumeClaim/claimName", kind: "Pod"),
                FieldSpec("spec/template/spec/volumes/persistentVolumeClaim/claimName", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/volumes/persistentVolumeClaim/claimName", kind: "Deployment"),
                FieldSpec("spec/template/spec/volumes/persistentVolumeClaim/claimName", kind: "ReplicationController"),
                FieldSpec("spec/jobTemplate/spec/template/spec/volumes/persistentVolumeClaim/claimName", kind: "CronJob"),
                FieldSpec("spec/template/spec/volumes/persistentVolumeClaim/claimName", kind: "Job"),
                FieldSpec("spec/template/spec/volumes/persistentVolumeClaim/claimName", kind: "DaemonSet"),
            ]
        ),
        (
            KindSelector(group: nil, version: "v1", kind: "PersistentVolume"),
            [
                FieldSpec("spec/volumeName", kind: "PersistentVolumeClaim"),
                FieldSpec("rules/resourceNames", kind: "ClusterRole"),
            ]
        ),
        (
            KindSelector(group: "storage.k8s.io", version: "v1", kind: "StorageClass"),
            [
                FieldSpec("spec/storageClassName", kind: "PersistentVolume"),
                FieldSpec("spec/storageClassName", kind: "PersistentVolumeClaim"),
                FieldSpec("spec/volumeClaimTemplates/spec/storageClassName", kind: "StatefulSet"),
            ]
        ),
        (
            KindSelector(group: "scheduling.k8s.io", version: "v1", kind: "PriorityClass"),
            [
                FieldSpec("spec/priorityClassName", kind: "Pod"),
                FieldSpec("spec/template/spec/priorityClassName", kind: "StatefulSet"),
                FieldSpec("spec/template/spec/priorityClassName", kind: "Deployment"),
                FieldSpec("spec/template/spec/priorityClassName", kind: "ReplicationController"),
                FieldSpec("spec/jobTemplate/spec/template/spec/priorityClassName", kind: "CronJob"),
                FieldSpec("spec/template/spec/priorityClassName", kind: "Job"),
                FieldSpec("spec/template/spec/priorityClassName", kind: "DaemonSet"),
            ]
        ),
        (
            KindSelector(group: "networking.k8s.io/v1", version: "v1", kind: "IngressClass"),
            [
                FieldSpec("spec/ingressClassName", kind: "Ingress"),
            ]
        ),
        (
            KindSelector(group: "admissionregistration.k8s.io", version: nil, kind: "ValidatingAdmissionPolicy"),
            [
                FieldSpec("spec/policyName", group: "admissionregistration.k8s.io", kind: "ValidatingAdmissionPolicyBinding"),
            ]
        ),
    ]
}
