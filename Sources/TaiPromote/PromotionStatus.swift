import Foundation
public import TaiCore
public import TaiKube

/// The canary as the cluster runs it: the VirtualService's weights and the two Deployments.
public struct LiveCanary: Sendable, Equatable {
    public struct Workload: Sendable, Equatable {
        public var name: String
        public var image: String?
        public var ready: Int
        public var replicas: Int

        public var text: String { "\(name) \(image ?? "(no image)") \(ready)/\(replicas) ready" }
    }

    public var weights: [(subset: String, weight: Int)]
    public var stable: Workload?
    public var canary: Workload?

    public static func == (a: LiveCanary, b: LiveCanary) -> Bool {
        a.weights.map(\.subset) == b.weights.map(\.subset) && a.weights.map(\.weight) == b.weights.map(\.weight) && a.stable == b.stable && a.canary == b.canary
    }

    /// The canary subset's live weight, if the VirtualService is there.
    public func weight(of subset: String) -> Int? { weights.first { $0.subset == subset }?.weight }

    /// Reads the environment's canary objects in `namespace` (absent ones are nil).
    public static func read(client: KubeClient, namespace: String, policy: PromotionPolicy) async throws(KubeError) -> LiveCanary {
        var live = LiveCanary(weights: [], stable: nil, canary: nil)
        let deployments = try await client.resource(apiVersion: "apps/v1", kind: "Deployment")  // discovers, when not done yet
        if let resource = await client.resources(group: "networking.istio.io", kind: "VirtualService"),
            let vs = try await client.get(resource, namespace: namespace, name: policy.virtualService)
        {
            for http in vs[path: ["spec", "http"]]?.listValue ?? [] {
                for route in http["route"]?.listValue ?? [] {
                    live.weights.append((route[path: ["destination", "subset"]]?.stringValue ?? "?", route["weight"]?.intValue ?? 100))
                }
            }
        }
        func workload(_ name: String) async throws(KubeError) -> Workload? {
            guard let d = try await client.get(deployments, namespace: namespace, name: name) else { return nil }
            return Workload(
                name: name, image: d[path: ["spec", "template", "spec", "containers"]]?.listValue?.first?["image"]?.stringValue,
                ready: d[path: ["status", "readyReplicas"]]?.intValue ?? 0, replicas: d[path: ["spec", "replicas"]]?.intValue ?? 1)
        }
        live.stable = try await workload(policy.stableDeployment)
        live.canary = try await workload(policy.canaryDeployment)
        return live
    }

    public var json: Value {
        var out: ValueMap = ["weights": .map(ValueMap(weights.map { ($0.subset, Value.int($0.weight)) }, uniquingKeysWith: { $1 }))]
        for (key, w) in [("stable", stable), ("canary", canary)] {
            if let w { out[key] = .map(["name": .string(w.name), "image": w.image.map { .string($0) } ?? .null, "ready": .int(w.ready), "replicas": .int(w.replicas)]) }
        }
        return .map(out)
    }
}
