import Foundation
import TaiCore
public import TaiDiff
public import TaiPromote
import TaiYAML

/// How the agent syncs one environment: an `environments/ENV/sync.yaml` (kind `SyncSettings`).
public struct SyncSettings: Sendable {
    /// What to do when the cluster drifts from git while git did not move.
    public enum DriftPolicy: String, Sendable {
        /// Re-apply: the cluster is healed.
        case correct
        /// Only report the drift (status, metrics, events).
        case report
    }

    /// The environment's name (`metadata.name`).
    public var name: String
    /// The kubeconfig context of its cluster (nil: the current context, or the pod's own cluster).
    public var context: String?
    /// The kustomization to render, relative to the repository's top.
    public var path: String
    /// The branch, tag or commit to deploy.
    public var revision: String
    /// The poll period.
    public var interval: Duration
    /// Delete objects the environment no longer declares.
    public var prune: Bool
    public var drift: DriftPolicy
    public var ignore: [IgnoreRule]
    /// How its canary is promoted (`spec.promotion`), if it is.
    public var promotion: PromotionPolicy?
    /// The file the settings were read from.
    public var file: String

    public init(
        name: String, path: String, revision: String = "main", interval: Duration = .seconds(300), prune: Bool = false,
        drift: DriftPolicy = .report, context: String? = nil, ignore: [IgnoreRule] = [], file: String = ""
    ) {
        self.name = name
        self.path = path
        self.revision = revision
        self.interval = interval
        self.prune = prune
        self.drift = drift
        self.context = context
        self.ignore = ignore
        self.file = file
    }

    /// Reads a sync settings file; every error names the file and the field.
    public static func load(_ file: String) throws(AgentError) -> SyncSettings {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw AgentError(file: file, message: "cannot be read")
        }
        let value: Value
        do {
            value = try YAML.parse(String(decoding: data, as: UTF8.self), file: file)
        } catch {
            throw AgentError(file: file, message: "\(error)")
        }
        return try parse(value, file: file)
    }

    public static func parse(_ value: Value, file: String) throws(AgentError) -> SyncSettings {
        func string(_ path: [String], default fallback: String? = nil) throws(AgentError) -> String? {
            switch value[path: path] {
            case nil, .null?: return fallback
            case .string(let s)?: return s
            case let other?: throw AgentError(file: file, field: path.joined(separator: "."), message: "expected a string, found a \(other.typeName)")
            }
        }
        guard value["kind"]?.stringValue == "SyncSettings" else {
            throw AgentError(file: file, field: "kind", message: "expected kind SyncSettings (apiVersion tai.io/v1alpha1)")
        }
        guard let name = try string(["metadata", "name"]), !name.isEmpty else {
            throw AgentError(file: file, field: "metadata.name", message: "the environment needs a name")
        }
        let path = try string(["spec", "source", "path"], default: "environments/\(name)") ?? "environments/\(name)"
        let revision = try string(["spec", "source", "revision"], default: "main") ?? "main"
        let intervalText = try string(["spec", "interval"], default: "5m") ?? "5m"
        guard let interval = parseDuration(intervalText), interval > .zero else {
            throw AgentError(file: file, field: "spec.interval", message: "'\(intervalText)' is not a duration (e.g. 30s, 5m, 1h)")
        }
        var prune = false
        switch value[path: ["spec", "prune"]] {
        case nil, .null?: break
        case .bool(let b)?: prune = b
        case let other?: throw AgentError(file: file, field: "spec.prune", message: "expected true or false, found a \(other.typeName)")
        }
        let policyText = try string(["spec", "drift", "policy"], default: "report") ?? "report"
        guard let drift = DriftPolicy(rawValue: policyText) else {
            throw AgentError(file: file, field: "spec.drift.policy", message: "'\(policyText)' is not a drift policy (correct or report)")
        }
        let ignore: [IgnoreRule]
        do { ignore = try IgnoreRule.parse(value, file: file) } catch { throw AgentError(file: file, message: "\(error)") }
        var settings = SyncSettings(
            name: name, path: path, revision: revision, interval: interval, prune: prune, drift: drift,
            context: try string(["spec", "cluster", "context"]), ignore: ignore, file: file)
        settings.promotion = try PromotionPolicy.parse(value, file: file)
        return settings
    }

    /// A Go-style duration: `300ms`, `30s`, `5m`, `1h30m`.
    public static func parseDuration(_ text: String) -> Duration? { Duration(goStyle: text) }
}

/// Why the agent cannot do something: the file and field when it comes from configuration.
public typealias AgentError = SettingsError
