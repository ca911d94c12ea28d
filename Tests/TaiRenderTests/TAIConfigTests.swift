import Foundation
import Testing
import TaiCore
import TaiRender
import TaiTesting
import TaiYAML

/// The TAI system of the guide (shared/seed/tai-kubernetes-guide.md), checked on what this
/// repository's environments render to: every name and number a platform team relies on.
@Suite("TAI configuration")
struct TAIConfigTests {
    static let root = TaiTesting.repositoryRoot

    struct Rendered {
        let objects: [Value]

        func find(_ kind: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Value {
            try #require(
                objects.first { $0["kind"]?.stringValue == kind && $0.name == name }, "\(kind)/\(name) is missing",
                sourceLocation: sourceLocation)
        }

        func find(_ kind: String, namePrefix: String) throws -> Value {
            try #require(objects.first { $0["kind"]?.stringValue == kind && ($0.name ?? "").hasPrefix(namePrefix) })
        }

        func has(_ kind: String, _ name: String) -> Bool {
            objects.contains { $0["kind"]?.stringValue == kind && $0.name == name }
        }
    }

    static func render(_ env: String) throws -> Rendered {
        Rendered(objects: try Kustomizer().build(root + "/environments/" + env).map(\.object))
    }

    static func container(_ workload: Value, _ name: String) throws -> Value {
        let containers = try #require(workload[path: ["spec", "template", "spec", "containers"]]?.listValue)
        return try #require(containers.first { $0["name"]?.stringValue == name })
    }

    static func at(_ v: Value?, _ path: String) -> Value? {
        var current = v
        for part in path.split(separator: ".") {
            if let index = Int(part) {
                guard let list = current?.listValue, list.indices.contains(index) else { return nil }
                current = list[index]
            } else {
                current = current?[String(part)]
            }
        }
        return current
    }

    static func expectHardened(_ container: Value, _ pod: Value?, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(at(pod, "securityContext.runAsNonRoot") == true, sourceLocation: sourceLocation)
        #expect(at(pod, "securityContext.seccompProfile.type") == "RuntimeDefault", sourceLocation: sourceLocation)
        #expect(at(container, "securityContext.readOnlyRootFilesystem") == true, sourceLocation: sourceLocation)
        #expect(at(container, "securityContext.allowPrivilegeEscalation") == false, sourceLocation: sourceLocation)
        #expect(at(container, "securityContext.capabilities.drop") == ["ALL"], sourceLocation: sourceLocation)
    }

    @Test("the base system, in every environment", arguments: ["dev", "staging", "prod"])
    func base(_ env: String) throws {
        let r = try Self.render(env)
        let namespace = "tai-\(env)"
        for object in r.objects {
            let kind = object["kind"]?.stringValue ?? ""
            if ["Namespace", "ClusterRole", "ClusterRoleBinding"].contains(kind) { continue }
            #expect(object.namespace == namespace, "\(kind)/\(object.name ?? "") is not in \(namespace)")
        }
        #expect(try r.find("Namespace", namespace)["kind"] == "Namespace")

        let api = try r.find("Deployment", "tai-api")
        let apiPod = api[path: ["spec", "template", "spec"]]
        let apiContainer = try Self.container(api, "tai-api")
        #expect(Self.at(api, "spec.template.metadata.labels.app") == "tai-api")
        #expect(Self.at(api, "spec.template.metadata.labels.version") == "v1")
        #expect(Self.at(apiContainer, "ports.0.containerPort") == 8080)
        #expect(Self.at(apiContainer, "ports.0.name") == "http")
        #expect(Self.at(apiContainer, "readinessProbe.httpGet.path") == "/health")
        #expect(Self.at(apiContainer, "livenessProbe.httpGet.path") == "/health")
        #expect(api[path: ["spec", "template", "metadata", "annotations", "prometheus.io/path"]] == "/metrics")
        #expect(Self.at(apiPod, "serviceAccountName") == "tai")
        Self.expectHardened(apiContainer, apiPod)
        if env != "dev" {
            #expect(Self.at(apiContainer, "resources.requests.cpu") == "500m")
            #expect(Self.at(apiContainer, "resources.requests.memory") == "512Mi")
            #expect(Self.at(apiContainer, "resources.limits.cpu") == "2000m")
            #expect(Self.at(apiContainer, "resources.limits.memory") == "2Gi")
        }

        let worker = try r.find("Deployment", "tai-worker")
        let workerContainer = try Self.container(worker, "tai-worker")
        Self.expectHardened(workerContainer, worker[path: ["spec", "template", "spec"]])
        #expect(workerContainer["args"]?.listValue?.contains("--topic=tai-events") == true)

        let apiService = try r.find("Service", "tai-api")
        #expect(Self.at(apiService, "spec.type") == "ClusterIP")
        #expect(Self.at(apiService, "spec.ports.0.port") == 8080)
        #expect(Self.at(apiService, "spec.ports.0.name") == "http")
        #expect(Self.at(try r.find("Service", "tai-cache"), "spec.clusterIP") == "None")

        let config = try r.find("ConfigMap", namePrefix: "tai-config-")
        #expect(config[path: ["data", "KAFKA_TOPIC"]] == "tai-events")
        #expect(config[path: ["data", "TAI_ENVIRONMENT"]] == .string(env))

        let cache = try r.find("StatefulSet", "tai-cache")
        #expect(Self.at(cache, "spec.replicas") == (env == "dev" ? 1 : 3))
        #expect(Self.at(cache, "spec.volumeClaimTemplates.0.spec.resources.requests.storage") == "10Gi")
        #expect(
            Self.at(cache, "spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.0.topologyKey")
                == "kubernetes.io/hostname")
        let redis = try Self.container(cache, "redis")
        #expect(Self.at(redis, "ports.0.containerPort") == 6379)
        #expect(redis["readinessProbe"] != nil && redis["livenessProbe"] != nil)

        #expect(r.has("ServiceAccount", "tai"))
        let role = try r.find("Role", "tai-reader")
        #expect(Self.at(role, "rules.0.resources") == ["pods", "services", "configmaps"])
        #expect(Self.at(role, "rules.1.resources") == ["deployments", "statefulsets"])
        #expect(Self.at(role, "rules.0.verbs") == ["get", "list", "watch"])
        let binding = try r.find("RoleBinding", "tai-reader-binding")
        #expect(Self.at(binding, "roleRef.name") == "tai-reader")
        #expect(Self.at(binding, "subjects.0.name") == "tai")
        #expect(Self.at(binding, "subjects.0.namespace") == .string(namespace))
    }

    @Test("KEDA, Istio, canary, network policy and monitoring in staging and prod", arguments: ["staging", "prod"])
    func overlays(_ env: String) throws {
        let r = try Self.render(env)
        let apiScaler = try r.find("ScaledObject", "tai-api-scaler")
        #expect(Self.at(apiScaler, "spec.scaleTargetRef.name") == "tai-api")
        #expect(Self.at(apiScaler, "spec.minReplicaCount") == 3)
        #expect(Self.at(apiScaler, "spec.maxReplicaCount") == 10)
        #expect(Self.at(apiScaler, "spec.cooldownPeriod") == 300)
        #expect(Self.at(apiScaler, "spec.fallback.replicas") == 3)
        #expect(Self.at(apiScaler, "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp.stabilizationWindowSeconds") == 0)
        #expect(Self.at(apiScaler, "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds") == 300)
        let apiTriggers = apiScaler[path: ["spec", "triggers"]]?.listValue ?? []
        #expect(apiTriggers.contains { $0["type"] == "cpu" && $0[path: ["metadata", "value"]] == "70" })
        #expect(apiTriggers.contains { $0["type"] == "memory" && $0[path: ["metadata", "value"]] == "80" })
        #expect(
            apiTriggers.contains {
                $0["type"] == "prometheus" && $0[path: ["metadata", "metricName"]] == "http_requests_per_second"
                    && $0[path: ["metadata", "threshold"]] == "1000"
            })

        let workerScaler = try r.find("ScaledObject", "tai-worker-scaler")
        #expect(Self.at(workerScaler, "spec.scaleTargetRef.name") == "tai-worker")
        #expect(Self.at(workerScaler, "spec.minReplicaCount") == 2)
        #expect(Self.at(workerScaler, "spec.maxReplicaCount") == 20)
        let workerTriggers = workerScaler[path: ["spec", "triggers"]]?.listValue ?? []
        let kafka = try #require(workerTriggers.first { $0["type"] == "kafka" })
        #expect(kafka[path: ["metadata", "bootstrapServers"]] == "kafka:9092")
        #expect(kafka[path: ["metadata", "topic"]] == "tai-events")
        #expect(kafka[path: ["metadata", "consumerGroup"]] == "tai-workers")
        #expect(kafka[path: ["metadata", "lagThreshold"]] == "1000")
        let pubsub = try #require(workerTriggers.first { $0["type"] == "gcp-pubsub" })
        #expect(pubsub[path: ["metadata", "subscriptionName"]]?.stringValue?.hasSuffix("/subscriptions/tai-events") == true)
        #expect(pubsub[path: ["metadata", "value"]] == "100")

        let gateway = try r.find("Gateway", "tai-gateway")
        let servers = gateway[path: ["spec", "servers"]]?.listValue ?? []
        #expect(servers.contains { $0[path: ["port", "number"]] == 80 && $0[path: ["port", "protocol"]] == "HTTP" })
        let https = try #require(servers.first { $0[path: ["port", "number"]] == 443 })
        #expect(https[path: ["port", "protocol"]] == "HTTPS")
        #expect(https[path: ["tls", "mode"]] == "SIMPLE")
        #expect(https[path: ["tls", "credentialName"]] == "tai-api-tls")
        #expect(https["hosts"] == ["tai-api.example.com"])

        let vs = try r.find("VirtualService", "tai-vs")
        let route = try #require(vs[path: ["spec", "http"]]?.listValue?.first)
        #expect(Self.at(route, "match.0.uri.prefix") == "/api/v1")
        #expect(Self.at(route, "route.0.destination.subset") == "stable")
        #expect(Self.at(route, "route.0.weight") == 90)
        #expect(Self.at(route, "route.1.destination.subset") == "canary")
        #expect(Self.at(route, "route.1.weight") == 10)
        #expect(Self.at(route, "timeout") == "30s")
        #expect(Self.at(route, "retries.attempts") == 3)
        #expect(Self.at(route, "retries.perTryTimeout") == "10s")

        let dr = try r.find("DestinationRule", "tai-dr")
        #expect(Self.at(dr, "spec.trafficPolicy.loadBalancer.simple") == "ROUND_ROBIN")
        #expect(Self.at(dr, "spec.trafficPolicy.connectionPool.tcp.maxConnections") == 100)
        #expect(Self.at(dr, "spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests") == 2048)
        #expect(Self.at(dr, "spec.trafficPolicy.connectionPool.http.http2MaxRequests") == 1000)
        #expect(Self.at(dr, "spec.subsets.0.name") == "stable")
        #expect(Self.at(dr, "spec.subsets.0.labels.version") == "v1")
        #expect(Self.at(dr, "spec.subsets.1.name") == "canary")
        #expect(Self.at(dr, "spec.subsets.1.labels.version") == "v2-canary")
        #expect(Self.at(try r.find("PeerAuthentication", "default"), "spec.mtls.mode") == "STRICT")
        #expect(try r.find("Namespace", "tai-\(env)")[path: ["metadata", "labels", "istio-injection"]] == "enabled")

        let canary = try r.find("Deployment", "tai-api-canary")
        #expect(Self.at(canary, "spec.template.metadata.labels.version") == "v2-canary")
        #expect(Self.at(canary, "spec.template.metadata.labels.app") == "tai-api")

        try Self.expectNetworkPolicies(r)
        let monitor = try r.find("ServiceMonitor", "tai-api")
        #expect(Self.at(monitor, "spec.endpoints.0.port") == "http")
        #expect(Self.at(monitor, "spec.endpoints.0.path") == "/metrics")
        #expect(Self.at(monitor, "spec.endpoints.0.interval") == "30s")
    }

    static func expectNetworkPolicies(_ r: Rendered) throws {
        #expect(Self.at(try r.find("NetworkPolicy", "default-deny-ingress"), "spec.policyTypes") == ["Ingress"])
        #expect(Self.at(try r.find("NetworkPolicy", "default-deny-egress"), "spec.policyTypes") == ["Egress"])
        let api = try r.find("NetworkPolicy", "tai-api-netpol")
        #expect(Self.at(api, "spec.ingress.0.from.0.podSelector.matchLabels.app") == "nginx-ingress")
        #expect(Self.at(api, "spec.ingress.0.ports.0.port") == 8080)
        #expect(Self.at(api, "spec.egress.0.to.0.podSelector.matchLabels.app") == "tai-cache")
        #expect(Self.at(api, "spec.egress.0.ports.0.port") == 6379)
        #expect(Self.at(api, "spec.egress.1.ports.0.port") == 53)
        #expect(Self.at(api, "spec.egress.1.ports.0.protocol") == "UDP")
        #expect(api[path: ["spec", "egress"]]?.listValue?[1][path: ["to"]]?.listValue?.first?[path: ["namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"]] == "kube-system")
        // The default deny must not break the system: the worker reaches Kafka and the cache,
        // the cache accepts its clients and peers.
        let worker = try r.find("NetworkPolicy", "tai-worker-netpol")
        let workerPorts = (worker[path: ["spec", "egress"]]?.listValue ?? []).compactMap { Self.at($0, "ports.0.port")?.intValue }
        #expect(workerPorts.contains(9092) && workerPorts.contains(6379) && workerPorts.contains(53))
        let cache = try r.find("NetworkPolicy", "tai-cache-netpol")
        let clients = (Self.at(cache, "spec.ingress.0.from")?.listValue ?? []).compactMap { $0[path: ["podSelector", "matchLabels", "app"]]?.stringValue }
        #expect(Set(clients) == ["tai-api", "tai-worker", "tai-cache"])
    }

    @Test("dev has no Istio and no KEDA, but the canary, policies, monitoring and agent")
    func dev() throws {
        let r = try Self.render("dev")
        for kind in ["ScaledObject", "Gateway", "VirtualService", "DestinationRule", "PeerAuthentication"] {
            #expect(!r.objects.contains { $0["kind"]?.stringValue == kind }, "dev should not have a \(kind)")
        }
        #expect(r.has("Deployment", "tai-api-canary"))
        #expect(r.has("ServiceMonitor", "tai-api"))
        try Self.expectNetworkPolicies(r)
    }

    @Test("the agent: probes, least-privilege RBAC with a Lease, its network policy", arguments: ["dev", "staging", "prod"])
    func agent(_ env: String) throws {
        let r = try Self.render(env)
        let deployment = try r.find("Deployment", "tai-gitops")
        let agent = try Self.container(deployment, "agent")
        #expect(Self.at(agent, "readinessProbe.httpGet.path") == "/readyz")
        #expect(Self.at(agent, "livenessProbe.httpGet.path") == "/healthz")
        #expect(Self.at(deployment, "spec.template.spec.serviceAccountName") == "tai-gitops")
        Self.expectHardened(agent, deployment[path: ["spec", "template", "spec"]])
        let role = try r.find("Role", "tai-gitops-applier")
        let rules = role["rules"]?.listValue ?? []
        #expect(rules.contains { $0["apiGroups"] == ["coordination.k8s.io"] && $0["resources"] == ["leases"] })
        #expect(!rules.contains { $0["verbs"]?.listValue?.contains("*") == true || $0["resources"]?.listValue?.contains("*") == true })
        let clusterRole = try r.find("ClusterRole", "tai-gitops-tai-\(env)")
        #expect(Self.at(clusterRole, "rules.0.resourceNames") == [.string("tai-\(env)")])
        #expect(Self.at(try r.find("ClusterRoleBinding", "tai-gitops-tai-\(env)"), "subjects.0.namespace") == .string("tai-\(env)"))
        #expect(r.has("NetworkPolicy", "tai-gitops-netpol"))
        let sync = try r.find("ConfigMap", namePrefix: "tai-gitops-sync-")
        let volumes = deployment[path: ["spec", "template", "spec", "volumes"]]?.listValue ?? []
        #expect(volumes.contains { $0[path: ["configMap", "name"]] == sync["metadata"]?["name"] })
    }

    @Test("each environment's sync settings are complete", arguments: ["dev", "staging", "prod"])
    func syncSettings(_ env: String) throws {
        let text = try String(contentsOfFile: Self.root + "/environments/\(env)/sync.yaml", encoding: .utf8)
        let settings = try YAML.parse(text)
        #expect(settings["kind"] == "SyncSettings")
        #expect(settings[path: ["spec", "source", "path"]] == .string("environments/\(env)"))
        #expect(settings[path: ["spec", "cluster", "context"]]?.stringValue?.isEmpty == false)
        #expect(settings[path: ["spec", "interval"]]?.stringValue != nil)
        #expect(settings[path: ["spec", "prune"]]?.boolValue != nil)
        #expect(["correct", "report"].contains(settings[path: ["spec", "drift", "policy"]]?.stringValue ?? ""))
        #expect(settings[path: ["spec", "ignore"]]?.listValue != nil)
        #expect(settings[path: ["spec", "promotion", "steps"]]?.listValue?.last == 100)
        #expect(settings[path: ["spec", "promotion", "analysis", "maxErrorRate"]] != nil)
    }
}
