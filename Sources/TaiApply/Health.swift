import TaiCore

/// Whether an object has become what was applied (kstatus-like).
public enum Health: String, Sendable {
    case current = "Current"
    case inProgress = "InProgress"
    case failed = "Failed"

    /// The health of a live object, with the reason when it is not current.
    public static func of(_ object: Value) -> (Health, String?) {
        let kind = object["kind"]?.stringValue ?? ""
        let generation = object[path: ["metadata", "generation"]]?.intValue
        let observed = object[path: ["status", "observedGeneration"]]?.intValue
        func condition(_ type: String) -> Value? {
            object[path: ["status", "conditions"]]?.listValue?.first { $0["type"]?.stringValue == type }
        }
        switch kind {
        case "Deployment":
            if let progressing = condition("Progressing"), progressing["reason"] == "ProgressDeadlineExceeded" {
                return (.failed, "rollout exceeded its progress deadline: \(progressing["message"]?.stringValue ?? "")")
            }
            if let generation, (observed ?? 0) < generation { return (.inProgress, "waiting for the controller to observe generation \(generation)") }
            let want = object[path: ["spec", "replicas"]]?.intValue ?? 1
            let updated = object[path: ["status", "updatedReplicas"]]?.intValue ?? 0
            let available = object[path: ["status", "availableReplicas"]]?.intValue ?? 0
            let total = object[path: ["status", "replicas"]]?.intValue ?? 0
            if updated < want { return (.inProgress, "\(updated) of \(want) replicas updated") }
            if total > updated { return (.inProgress, "\(total - updated) old replicas pending termination") }
            if available < want { return (.inProgress, "\(available) of \(want) replicas available") }
            return (.current, nil)
        case "StatefulSet":
            if let generation, (observed ?? 0) < generation { return (.inProgress, "waiting for the controller to observe generation \(generation)") }
            let want = object[path: ["spec", "replicas"]]?.intValue ?? 1
            let ready = object[path: ["status", "readyReplicas"]]?.intValue ?? 0
            let updated = object[path: ["status", "updatedReplicas"]]?.intValue ?? 0
            if ready < want { return (.inProgress, "\(ready) of \(want) replicas ready") }
            if updated < want { return (.inProgress, "\(updated) of \(want) replicas updated") }
            return (.current, nil)
        case "DaemonSet":
            let want = object[path: ["status", "desiredNumberScheduled"]]?.intValue ?? 0
            let ready = object[path: ["status", "numberReady"]]?.intValue ?? 0
            return ready >= want ? (.current, nil) : (.inProgress, "\(ready) of \(want) pods ready")
        case "PersistentVolumeClaim":
            let phase = object[path: ["status", "phase"]]?.stringValue ?? "Pending"
            if phase == "Lost" { return (.failed, "claim lost its volume") }
            return phase == "Bound" ? (.current, nil) : (.inProgress, "claim is \(phase)")
        case "CustomResourceDefinition":
            if condition("Established")?["status"] == "True" { return (.current, nil) }
            return (.inProgress, "not established yet")
        case "Job":
            if condition("Failed")?["status"] == "True" { return (.failed, condition("Failed")?["message"]?.stringValue ?? "job failed") }
            if condition("Complete")?["status"] == "True" { return (.current, nil) }
            return (.inProgress, "job running")
        default:
            return (.current, nil)
        }
    }
}
