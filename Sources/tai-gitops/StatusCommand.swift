import ArgumentParser
import Foundation
import TaiAgent
import TaiCore
import TaiKube

/// `tai-gitops status [ENV]`: what the agent recorded in the cluster.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the agent last did per environment, as it recorded it in the cluster.",
        discussion: """
            The agent keeps a status record per environment in the cluster (ConfigMap tai-gitops-status-ENV in the environment's namespace, label tai.io/status-of=ENV): the revision it rendered and the one last applied, when, the result (Synced, Drifted, Failed), what it changed, and each drifted object with who changed what. This reads them (from every namespace the credentials can list, or --namespace).

            Exit status: 0 all shown environments Synced, 1 some Drifted or Failed, 2 an error (or no record found).

            Examples:
              tai-gitops status
              tai-gitops status prod -o json
            """
    )

    @Argument(help: "An environment name (default: all that have a record).")
    var environment: String?

    @OptionGroup var cluster: ClusterOptions

    @Option(name: .shortAndLong, help: "Output: text or json.")
    var output: TextOrJSON = .text

    func run() async throws {
        try await exitingTwoOnError {
            let config: ClusterConfig
            do { config = try cluster.clusterConfig(preferredContext: nil) } catch let error as KubeError { throw CLIError(message: error.description) }
            let client = KubeClient(config: config, settings: cluster.clientSettings)
            let resource = try await client.resource(apiVersion: "v1", kind: "ConfigMap")
            let selector = environment.map { "\(Agent.statusLabel)=\($0)" } ?? Agent.statusLabel
            let maps = try await client.list(resource, namespace: cluster.namespace, labelSelector: selector)
            let records = maps.compactMap { map -> SyncRecord? in
                guard let text = map[path: ["data", "status.json"]]?.stringValue, let json = try? JSON.parse(text) else { return nil }
                return SyncRecord(json: json)
            }.sorted { $0.environment < $1.environment }
            guard !records.isEmpty else {
                throw CLIError(message: environment.map { "no status record for environment \($0) (has the agent synced it?)" } ?? "no status records found (is the agent running against this cluster?)")
            }
            if output == .json {
                FileHandle.standardOutput.write(Data((JSON.serializePretty(.list(records.map(\.json))) + "\n").utf8))
            } else {
                FileHandle.standardOutput.write(Data(Self.text(records).utf8))
            }
            exitWithoutTeardown(records.allSatisfy { $0.result == .synced } ? 0 : 1)
        }
    }

    static func text(_ records: [SyncRecord]) -> String {
        var out = ""
        for r in records {
            out += "\(r.environment): \(r.result.rawValue)"
            if let revision = r.revision { out += " at \(revision.prefix(12))" }
            if let applied = r.appliedRevision, applied != r.revision { out += " (applied: \(applied.prefix(12)))" }
            if let time = r.time { out += ", \(ISO8601DateFormatter().string(from: time))" }
            out += "\n"
            if r.created + r.configured + r.pruned + r.failed > 0 {
                out += "  last apply: \(r.created) created, \(r.configured) configured, \(r.pruned) pruned, \(r.failed) failed\n"
            }
            for w in r.canaryWeights { out += "  \(w.virtualService) → \(w.subset): \(w.weight)%\n" }
            if let message = r.message { out += "  message: \(message)\n" }
            if let interrupted = r.interrupted { out += "  interrupted: \(interrupted)\n" }
            for object in r.drifted {
                out += "  \(object.verdict): \(object.id)\n"
                for field in object.fields { out += "    \(field)\n" }
            }
        }
        return out
    }
}
