import Foundation
import TaiCore

/// kube-apiserver v1.32's defaulting for the built-in kinds (see shared/reference
/// kube-apiserver-facts.md, section A): what a live object has that its manifest omitted.
public enum Defaults {
    /// Defaults an object in place. `allocate` gives a Service its cluster IP.
    public static func apply(_ object: inout Value, allocateClusterIP: () -> String) {
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        let kind = object["kind"]?.stringValue ?? ""
        switch (apiVersion, kind) {
        case ("apps/v1", "Deployment"): deployment(&object)
        case ("apps/v1", "StatefulSet"): statefulSet(&object)
        case ("apps/v1", "DaemonSet"), ("apps/v1", "ReplicaSet"):
            setIfMissing(&object, ["spec", "revisionHistoryLimit"], 10)
            podTemplate(&object, at: ["spec", "template"])
        case ("batch/v1", "Job"): job(&object, at: ["spec"])
        case ("batch/v1", "CronJob"):
            setIfMissing(&object, ["spec", "concurrencyPolicy"], "Allow")
            setIfMissing(&object, ["spec", "suspend"], false)
            setIfMissing(&object, ["spec", "successfulJobsHistoryLimit"], 3)
            setIfMissing(&object, ["spec", "failedJobsHistoryLimit"], 1)
            job(&object, at: ["spec", "jobTemplate", "spec"])
            setIfMissing(&object, ["spec", "jobTemplate", "metadata", "creationTimestamp"], .null)
        case ("v1", "Pod"): podSpec(&object, at: ["spec"])
        case ("v1", "Service"): service(&object, allocateClusterIP: allocateClusterIP)
        case ("v1", "Secret"): secret(&object)
        case ("v1", "Namespace"): namespace(&object)
        case ("v1", "PersistentVolumeClaim"):
            pvcSpec(&object, at: ["spec"])
            setIfMissing(&object, ["status", "phase"], "Pending")
        case ("rbac.authorization.k8s.io/v1", "RoleBinding"), ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"):
            binding(&object)
        case ("rbac.authorization.k8s.io/v1", "Role"), ("rbac.authorization.k8s.io/v1", "ClusterRole"):
            if object["rules"] == nil || object["rules"] == .list([]) { object["rules"] = .null }
        case ("networking.k8s.io/v1", "NetworkPolicy"): networkPolicy(&object)
        case ("autoscaling/v2", "HorizontalPodAutoscaler"): hpa(&object)
        default: break
        }
    }

    public static func setIfMissing(_ object: inout Value, _ path: [String], _ value: Value) {
        if object[path: path] == nil { object.set(path: path, to: value) }
    }

    public static func deployment(_ d: inout Value) {
        setIfMissing(&d, ["spec", "replicas"], 1)
        setIfMissing(&d, ["spec", "strategy", "type"], "RollingUpdate")
        if d[path: ["spec", "strategy", "type"]] == "RollingUpdate" {
            setIfMissing(&d, ["spec", "strategy", "rollingUpdate", "maxUnavailable"], "25%")
            setIfMissing(&d, ["spec", "strategy", "rollingUpdate", "maxSurge"], "25%")
        }
        setIfMissing(&d, ["spec", "revisionHistoryLimit"], 10)
        setIfMissing(&d, ["spec", "progressDeadlineSeconds"], 600)
        podTemplate(&d, at: ["spec", "template"])
    }

    public static func statefulSet(_ s: inout Value) {
        setIfMissing(&s, ["spec", "replicas"], 1)
        setIfMissing(&s, ["spec", "podManagementPolicy"], "OrderedReady")
        if s[path: ["spec", "updateStrategy"]] == nil {
            s.set(path: ["spec", "updateStrategy"], to: ["type": "RollingUpdate", "rollingUpdate": ["partition": 0]])
        } else if s[path: ["spec", "updateStrategy", "rollingUpdate"]] != nil {
            setIfMissing(&s, ["spec", "updateStrategy", "rollingUpdate", "partition"], 0)
        }
        setIfMissing(&s, ["spec", "persistentVolumeClaimRetentionPolicy"], ["whenDeleted": "Retain", "whenScaled": "Retain"])
        setIfMissing(&s, ["spec", "revisionHistoryLimit"], 10)
        setIfMissing(&s, ["spec", "serviceName"], "")
        if case .list(var templates)? = s[path: ["spec", "volumeClaimTemplates"]] {
            for i in templates.indices {
                setIfMissing(&templates[i], ["metadata", "creationTimestamp"], .null)
                pvcSpec(&templates[i], at: ["spec"])
                setIfMissing(&templates[i], ["status", "phase"], "Pending")
            }
            s.set(path: ["spec", "volumeClaimTemplates"], to: .list(templates))
        }
        podTemplate(&s, at: ["spec", "template"])
    }

    public static func job(_ object: inout Value, at spec: [String]) {
        setIfMissing(&object, spec + ["backoffLimit"], 6)
        setIfMissing(&object, spec + ["completionMode"], "NonIndexed")
        setIfMissing(&object, spec + ["suspend"], false)
        setIfMissing(&object, spec + ["podReplacementPolicy"], "TerminatingOrFailed")
        if object[path: spec + ["completions"]] == nil, object[path: spec + ["parallelism"]] == nil {
            object.set(path: spec + ["completions"], to: 1)
            object.set(path: spec + ["parallelism"], to: 1)
        }
        podTemplate(&object, at: spec + ["template"])
    }

    public static func pvcSpec(_ object: inout Value, at spec: [String]) {
        setIfMissing(&object, spec + ["volumeMode"], "Filesystem")
        canonicalizeResources(&object, at: spec + ["resources"])
    }

    public static func podTemplate(_ object: inout Value, at template: [String]) {
        guard object[path: template] != nil else { return }
        setIfMissing(&object, template + ["metadata", "creationTimestamp"], .null)
        podSpec(&object, at: template + ["spec"])
    }

    public static func podSpec(_ object: inout Value, at spec: [String]) {
        guard object[path: spec] != nil else { return }
        setIfMissing(&object, spec + ["restartPolicy"], "Always")
        setIfMissing(&object, spec + ["dnsPolicy"], "ClusterFirst")
        setIfMissing(&object, spec + ["schedulerName"], "default-scheduler")
        setIfMissing(&object, spec + ["securityContext"], .emptyMap)
        setIfMissing(&object, spec + ["terminationGracePeriodSeconds"], 30)
        for list in ["containers", "initContainers"] {
            guard case .list(var containers)? = object[path: spec + [list]] else { continue }
            for i in containers.indices { container(&containers[i]) }
            object.set(path: spec + [list], to: .list(containers))
        }
        if case .list(var volumes)? = object[path: spec + ["volumes"]] {
            for i in volumes.indices { volume(&volumes[i]) }
            object.set(path: spec + ["volumes"], to: .list(volumes))
        }
    }

    public static func container(_ c: inout Value) {
        if c["imagePullPolicy"] == nil, let image = c["image"]?.stringValue {
            c["imagePullPolicy"] = .string(pullPolicy(image))
        }
        setIfMissing(&c, ["terminationMessagePath"], "/dev/termination-log")
        setIfMissing(&c, ["terminationMessagePolicy"], "File")
        setIfMissing(&c, ["resources"], .emptyMap)
        canonicalizeResources(&c, at: ["resources"])
        if case .list(var ports)? = c["ports"] {
            for i in ports.indices { setIfMissing(&ports[i], ["protocol"], "TCP") }
            c["ports"] = .list(ports)
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            guard var p = c[probe], case .map = p else { continue }
            setIfMissing(&p, ["timeoutSeconds"], 1)
            setIfMissing(&p, ["periodSeconds"], 10)
            setIfMissing(&p, ["successThreshold"], 1)
            setIfMissing(&p, ["failureThreshold"], 3)
            if p["httpGet"] != nil {
                setIfMissing(&p, ["httpGet", "path"], "/")
                setIfMissing(&p, ["httpGet", "scheme"], "HTTP")
            }
            c[probe] = p
        }
        if case .list(var env)? = c["env"] {
            for i in env.indices where env[i][path: ["valueFrom", "fieldRef"]] != nil {
                setIfMissing(&env[i], ["valueFrom", "fieldRef", "apiVersion"], "v1")
            }
            for i in env.indices where env[i][path: ["valueFrom", "resourceFieldRef"]] != nil {
                setIfMissing(&env[i], ["valueFrom", "resourceFieldRef", "divisor"], "0")
            }
            c["env"] = .list(env)
        }
    }

    /// `Always` for `:latest` or an image without tag and digest, else `IfNotPresent`.
    public static func pullPolicy(_ image: String) -> String {
        if image.utf8.contains(UInt8(ascii: "@")) { return "IfNotPresent" }
        let lastSegment = image.split(separator: "/").last.map(String.init) ?? image
        guard let colon = lastSegment.lastIndex(of: ":") else { return "Always" }
        return lastSegment[lastSegment.index(after: colon)...] == "latest" ? "Always" : "IfNotPresent"
    }

    public static func volume(_ v: inout Value) {
        for source in ["configMap", "secret", "downwardAPI", "projected"] where v[source] != nil {
            setIfMissing(&v, [source, "defaultMode"], 420)
        }
        let sources = (v.mapValue?.keys ?? []).filter { $0 != "name" }
        if sources.isEmpty { v["emptyDir"] = .emptyMap }
        if v["hostPath"] != nil { setIfMissing(&v, ["hostPath", "type"], "") }
        if case .list(var projected)? = v[path: ["projected", "sources"]] {
            for i in projected.indices where projected[i]["serviceAccountToken"] != nil {
                setIfMissing(&projected[i], ["serviceAccountToken", "expirationSeconds"], 3600)
            }
            v.set(path: ["projected", "sources"], to: .list(projected))
        }
    }

    public static func canonicalizeResources(_ object: inout Value, at path: [String]) {
        for list in ["limits", "requests"] {
            guard case .map(var values)? = object[path: path + [list]] else { continue }
            for (key, value) in values {
                let text = value.scalarText ?? ""
                if let canonical = Quantity.canonical(text) { values[key] = .string(canonical) }
            }
            object.set(path: path + [list], to: .map(values))
        }
    }

    public static func service(_ s: inout Value, allocateClusterIP: () -> String) {
        setIfMissing(&s, ["spec", "type"], "ClusterIP")
        setIfMissing(&s, ["spec", "sessionAffinity"], "None")
        if s[path: ["spec", "sessionAffinity"]] == "ClientIP" {
            setIfMissing(&s, ["spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds"], 10800)
        }
        let type = s[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
        if case .list(var ports)? = s[path: ["spec", "ports"]] {
            for i in ports.indices {
                setIfMissing(&ports[i], ["protocol"], "TCP")
                let target = ports[i]["targetPort"]
                if target == nil || target == 0 || target == "" { ports[i]["targetPort"] = ports[i]["port"] ?? 0 }
            }
            s.set(path: ["spec", "ports"], to: .list(ports))
        }
        if type != "ExternalName" {
            if s[path: ["spec", "clusterIP"]] == nil || s[path: ["spec", "clusterIP"]] == "" {
                s.set(path: ["spec", "clusterIP"], to: .string(allocateClusterIP()))
            }
            if s[path: ["spec", "clusterIPs"]] == nil, let ip = s[path: ["spec", "clusterIP"]] {
                s.set(path: ["spec", "clusterIPs"], to: [ip])
            }
            setIfMissing(&s, ["spec", "ipFamilies"], ["IPv4"])
            let headlessWithoutSelector = s[path: ["spec", "clusterIP"]] == "None" && s[path: ["spec", "selector"]] == nil
            setIfMissing(&s, ["spec", "ipFamilyPolicy"], headlessWithoutSelector ? "RequireDualStack" : "SingleStack")
            setIfMissing(&s, ["spec", "internalTrafficPolicy"], "Cluster")
        }
        if type == "NodePort" || type == "LoadBalancer" {
            setIfMissing(&s, ["spec", "externalTrafficPolicy"], "Cluster")
        }
        if type == "LoadBalancer" { setIfMissing(&s, ["spec", "allocateLoadBalancerNodePorts"], true) }
        setIfMissing(&s, ["status", "loadBalancer"], .emptyMap)
    }

    public static func secret(_ s: inout Value) {
        setIfMissing(&s, ["type"], "Opaque")
        foldStringData(&s)
    }

    /// `stringData` is write-only: folded into `data` (base64), never stored.
    public static func foldStringData(_ s: inout Value) {
        if case .map(let stringData)? = s["stringData"] {
            var data = s["data"]?.mapValue ?? [:]
            for (key, value) in stringData {
                data[key] = .string(Data((value.scalarText ?? "").utf8).base64EncodedString())
            }
            s["data"] = .map(data)
            s["stringData"] = nil
        }
    }

    public static func namespace(_ n: inout Value) {
        if let name = n[path: ["metadata", "name"]] {
            n.set(path: ["metadata", "labels", "kubernetes.io/metadata.name"], to: name)
        }
        setIfMissing(&n, ["spec", "finalizers"], ["kubernetes"])
        setIfMissing(&n, ["status", "phase"], "Active")
    }

    public static func binding(_ b: inout Value) {
        setIfMissing(&b, ["roleRef", "apiGroup"], "rbac.authorization.k8s.io")
        if case .list(var subjects)? = b["subjects"] {
            for i in subjects.indices where subjects[i]["apiGroup"] == nil {
                subjects[i]["apiGroup"] = subjects[i]["kind"] == "ServiceAccount" ? "" : "rbac.authorization.k8s.io"
            }
            b["subjects"] = .list(subjects)
        }
    }

    public static func networkPolicy(_ p: inout Value) {
        setIfMissing(&p, ["spec", "podSelector"], .emptyMap)
        for direction in ["ingress", "egress"] {
            guard case .list(var rules)? = p[path: ["spec", direction]] else { continue }
            for i in rules.indices {
                guard case .list(var ports)? = rules[i]["ports"] else { continue }
                for j in ports.indices { setIfMissing(&ports[j], ["protocol"], "TCP") }
                rules[i]["ports"] = .list(ports)
            }
            p.set(path: ["spec", direction], to: .list(rules))
        }
        if p[path: ["spec", "policyTypes"]] == nil || p[path: ["spec", "policyTypes"]] == .list([]) {
            var types: [Value] = ["Ingress"]
            if case .list(let egress)? = p[path: ["spec", "egress"]], !egress.isEmpty { types.append("Egress") }
            p.set(path: ["spec", "policyTypes"], to: .list(types))
        }
    }

    public static func hpa(_ h: inout Value) {
        setIfMissing(&h, ["spec", "minReplicas"], 1)
        if h[path: ["spec", "metrics"]] == nil || h[path: ["spec", "metrics"]] == .list([]) {
            h.set(path: ["spec", "metrics"], to: [["type": "Resource", "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": 80]]]])
        }
        if h[path: ["spec", "behavior"]] != nil {
            setIfMissing(&h, ["spec", "behavior", "scaleUp"], [
                "stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                "policies": [["type": "Pods", "value": 4, "periodSeconds": 15], ["type": "Percent", "value": 100, "periodSeconds": 15]],
            ])
            setIfMissing(&h, ["spec", "behavior", "scaleDown"], [
                "selectPolicy": "Max", "policies": [["type": "Percent", "value": 100, "periodSeconds": 15]],
            ])
        }
    }
}
