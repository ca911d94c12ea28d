import TaiCore

/// What the controllers of a real cluster would write soon after a change, done at once so
/// that health checks and `kubectl get` see settled objects: workload status (every replica
/// ready at once), the Deployment revision annotation.
enum Controllers {
    static func reconcile(_ object: Value, _ type: ResourceType) -> Value {
        var object = object
        switch (type.group, type.kind) {
        case ("apps", "Deployment"):
            let replicas = object[path: ["spec", "replicas"]]?.intValue ?? 1
            let generation = object[path: ["metadata", "generation"]] ?? 1
            if object[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]] == nil {
                object.set(path: ["metadata", "annotations", "deployment.kubernetes.io/revision"], to: "1")
            }
            var status: ValueMap = ["observedGeneration": generation]
            if replicas > 0 {
                status["replicas"] = .int(replicas)
                status["updatedReplicas"] = .int(replicas)
                status["readyReplicas"] = .int(replicas)
                status["availableReplicas"] = .int(replicas)
            }
            status["conditions"] = [
                ["type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."],
                ["type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": .string("ReplicaSet \"\(object[path: ["metadata", "name"]]?.stringValue ?? "")\" has successfully progressed.")],
            ]
            object["status"] = .map(status)
        case ("apps", "StatefulSet"):
            let replicas = object[path: ["spec", "replicas"]]?.intValue ?? 1
            object["status"] = [
                "observedGeneration": object[path: ["metadata", "generation"]] ?? 1, "replicas": .int(replicas),
                "readyReplicas": .int(replicas), "currentReplicas": .int(replicas), "updatedReplicas": .int(replicas),
                "availableReplicas": .int(replicas), "collisionCount": 0,
            ]
        default:
            break
        }
        return object
    }
}
