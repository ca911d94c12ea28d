import Foundation
import TaiCore
import TaiSSA

/// How the simulated controllers behave.
public struct ControllerSettings: Sendable {
    /// Seconds a Deployment or StatefulSet rollout takes before it reports ready (0: at once).
    public var rolloutDelay: Double
    /// Image references (exact, or a prefix ending in `*`) whose rollouts never become ready.
    public var stuckImages: [String]

    public init(rolloutDelay: Double = 0, stuckImages: [String] = []) {
        self.rolloutDelay = rolloutDelay
        self.stuckImages = stuckImages
    }

    func isStuck(_ object: Value) -> Bool {
        let images = (object[path: ["spec", "template", "spec", "containers"]]?.listValue ?? []).compactMap { $0["image"]?.stringValue }
        return images.contains { image in
            stuckImages.contains { pattern in pattern.hasSuffix("*") ? image.hasPrefix(String(pattern.dropLast())) : image == pattern }
        }
    }
}

/// What the controllers of a real cluster write after a change: workload rollout status (after
/// the configured delay, or never for stuck images, then ProgressDeadlineExceeded), the
/// Deployment revision annotation.
enum Controllers {
    enum Phase {
        case progressing
        case complete
        case stuck
        case deadlineExceeded
    }

    static func isWorkload(_ type: ResourceType) -> Bool {
        type.group == "apps" && (type.kind == "Deployment" || type.kind == "StatefulSet")
    }

    /// The object with its controller-written fields for a rollout phase.
    static func reconcile(_ object: Value, _ type: ResourceType, phase: Phase = .complete) -> Value {
        guard isWorkload(type) else { return object }
        var object = object
        let replicas = object[path: ["spec", "replicas"]]?.intValue ?? 1
        let generation = object[path: ["metadata", "generation"]] ?? 1
        let previous = object["status"]
        let ready: Int
        let updated: Int
        switch phase {
        case .complete: (ready, updated) = (replicas, replicas)
        case .progressing: (ready, updated) = (min(previous?["readyReplicas"]?.intValue ?? 0, replicas), 0)
        case .stuck, .deadlineExceeded: (ready, updated) = (0, replicas)
        }
        if type.kind == "StatefulSet" {
            object["status"] = [
                "observedGeneration": generation, "replicas": .int(replicas), "readyReplicas": .int(ready),
                "currentReplicas": .int(phase == .complete ? replicas : ready), "updatedReplicas": .int(updated),
                "availableReplicas": .int(ready), "collisionCount": 0,
            ]
            return object
        }
        if object[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]] == nil {
            object.set(path: ["metadata", "annotations", "deployment.kubernetes.io/revision"], to: "1")
        }
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        var status: ValueMap = ["observedGeneration": generation]
        if replicas > 0 {
            status["replicas"] = .int(replicas)
            if updated > 0 { status["updatedReplicas"] = .int(updated) }
            if ready > 0 {
                status["readyReplicas"] = .int(ready)
                status["availableReplicas"] = .int(ready)
            }
            if replicas - ready > 0 { status["unavailableReplicas"] = .int(replicas - ready) }
        }
        let available: Value = ready >= replicas
            ? ["type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."]
            : ["type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."]
        let progressing: Value = switch phase {
        case .complete:
            ["type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": .string("ReplicaSet \"\(name)\" has successfully progressed.")]
        case .progressing, .stuck:
            ["type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated", "message": .string("ReplicaSet \"\(name)\" is progressing.")]
        case .deadlineExceeded:
            ["type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": .string("ReplicaSet \"\(name)\" has timed out progressing.")]
        }
        status["conditions"] = [available, progressing]
        object["status"] = .map(status)
        return object
    }
}
