import Foundation
public import TaiCore
import TaiDiff

/// The outcome of one sync of an environment: what the status page, `/readyz`, the metrics, the
/// status record in the cluster and `tai-gitops status` show.
public struct SyncRecord: Sendable, Equatable {
    public enum Result: String, Sendable {
        /// The cluster equals git (after applying what differed).
        case synced = "Synced"
        /// The cluster differs from git and the policy is to report it only.
        case drifted = "Drifted"
        /// Fetch, verification, rendering or an apply failed; the cluster keeps the last applied revision.
        case failed = "Failed"
        /// Not synced yet.
        case pending = "Pending"
    }

    /// One drifted object and who changed what.
    public struct DriftedObject: Sendable, Equatable {
        public var id: String
        public var verdict: String
        /// `spec.replicas: 5 → 2 (kubectl, the cluster was edited)`, one line per field.
        public var fields: [String]
    }

    public var environment: String
    public var result: Result = .pending
    /// The commit rendered in this sync (the full id, or the checkout's state for a local directory).
    public var revision: String?
    /// The last commit applied successfully.
    public var appliedRevision: String?
    public var time: Date?
    public var seconds: Double = 0
    public var message: String?
    public var drifted: [DriftedObject] = []
    /// What the last apply did (kept until the next apply).
    public var created = 0
    public var configured = 0
    public var pruned = 0
    public var failed = 0
    public var writes = 0
    /// What was applied but not finished when the agent stopped.
    public var interrupted: String?
    /// VirtualService canary weights, from the rendered environment.
    public var canaryWeights: [CanaryWeight] = []

    // Not part of the record the cluster keeps: what the agent needs next.
    /// The inventory's member label selector and the kinds it holds (`apiVersion|kind|namespace`), to watch.
    var watchSelector: String?
    var watchKinds: [String] = []
    /// The inventory namespace (where the status record goes).
    var inventoryNamespace: String?
    /// Objects this sync created, changed or pruned, for Kubernetes Events.
    var changes: [Change] = []

    struct Change: Sendable, Equatable {
        var apiVersion: String
        var kind: String
        var namespace: String?
        var name: String
        var reason: String
    }

    public struct CanaryWeight: Sendable, Equatable {
        public var virtualService: String
        public var subset: String
        public var weight: Int
    }

    public init(environment: String) { self.environment = environment }

    /// The record as JSON (`tai-gitops status -o json`, the status ConfigMap).
    public var json: Value {
        var m: ValueMap = ["environment": .string(environment), "result": .string(result.rawValue)]
        if let revision { m["revision"] = .string(revision) }
        if let appliedRevision { m["appliedRevision"] = .string(appliedRevision) }
        if let time { m["time"] = .string(Self.timestamp(time)) }
        m["seconds"] = .double((seconds * 1000).rounded() / 1000)
        if let message { m["message"] = .string(message) }
        if let interrupted { m["interrupted"] = .string(interrupted) }
        m["created"] = .int(created)
        m["configured"] = .int(configured)
        m["pruned"] = .int(pruned)
        m["failed"] = .int(failed)
        m["writes"] = .int(writes)
        m["drifted"] = .list(drifted.map { .map(["id": .string($0.id), "verdict": .string($0.verdict), "fields": .list($0.fields.map(Value.string))]) })
        m["canaryWeights"] = .list(
            canaryWeights.map { .map(["virtualService": .string($0.virtualService), "subset": .string($0.subset), "weight": .int($0.weight)]) })
        return .map(m)
    }

    /// Reads a record back from its JSON.
    public init?(json: Value) {
        guard let environment = json["environment"]?.stringValue else { return nil }
        self.environment = environment
        result = json["result"]?.stringValue.flatMap(Result.init(rawValue:)) ?? .pending
        revision = json["revision"]?.stringValue
        appliedRevision = json["appliedRevision"]?.stringValue
        time = json["time"]?.stringValue.flatMap(Self.date(from:))
        seconds = json["seconds"]?.numberValue ?? 0
        message = json["message"]?.stringValue
        interrupted = json["interrupted"]?.stringValue
        created = json["created"]?.intValue ?? 0
        configured = json["configured"]?.intValue ?? 0
        pruned = json["pruned"]?.intValue ?? 0
        failed = json["failed"]?.intValue ?? 0
        writes = json["writes"]?.intValue ?? 0
        drifted = (json["drifted"]?.listValue ?? []).map {
            DriftedObject(
                id: $0["id"]?.stringValue ?? "", verdict: $0["verdict"]?.stringValue ?? "",
                fields: ($0["fields"]?.listValue ?? []).compactMap(\.stringValue))
        }
        canaryWeights = (json["canaryWeights"]?.listValue ?? []).map {
            CanaryWeight(
                virtualService: $0["virtualService"]?.stringValue ?? "", subset: $0["subset"]?.stringValue ?? "",
                weight: $0["weight"]?.intValue ?? 0)
        }
    }

    /// The same record but for when it happened and how long it took: a status write is only
    /// needed when this changes.
    var withoutTiming: SyncRecord {
        var copy = self
        copy.time = nil
        copy.seconds = 0
        copy.writes = 0
        copy.changes = []
        return copy
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func date(from text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// The drifted objects of a diff, with who changed what (Secret values never shown).
    static func drifted(from objects: [ObjectDiff]) -> [DriftedObject] {
        objects.filter { $0.verdict != .inSync }.map { object in
            DriftedObject(
                id: object.id, verdict: object.verdict.rawValue,
                fields: object.changes.map { change in
                    var line = change.path
                    if change.sensitive {
                        line += ": (a Secret value changed)"
                    } else {
                        line += ": \(describe(change.live)) → \(describe(change.desired))"
                    }
                    var who: [String] = []
                    if let manager = change.manager { who.append(manager + (change.subresource.map { "/" + $0 } ?? "")) }
                    who.append(change.cause.rawValue)
                    return line + " (" + who.joined(separator: ", ") + ")"
                })
        }
    }

    private static func describe(_ value: Value?) -> String {
        guard let value else { return "(none)" }
        if let text = value.scalarText { return text.count > 60 ? String(text.prefix(57)) + "..." : text }
        let json = JSON.serialize(value)
        return json.count > 60 ? String(json.prefix(57)) + "..." : json
    }
}
