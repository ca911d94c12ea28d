import ArgumentParser
import Foundation
import TaiApply
import TaiCore
import TaiDiff
import TaiKube

/// `tai-gitops apply ENV|DIR`: makes the cluster equal to the environment.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Make the cluster equal to an environment: ordered server-side apply, safe prune, health.",
        discussion: """
            Applies, under the field manager tai-gitops, only the objects whose diff is not empty (a run with nothing to do writes nothing), stage by stage: Namespaces, CRDs (waiting until Established), ServiceAccounts and RBAC, ConfigMaps and Secrets, PVCs, Services, workloads, autoscalers, then other custom resources; deletions in reverse. Workloads an HPA or KEDA ScaledObject targets never get spec.replicas applied (ownership is handed over first when tai-gitops held it). What tai-gitops applied is tracked in an ApplySet inventory (label applyset.kubernetes.io/part-of, parent ConfigMap tai-gitops-ENV).

            --prune deletes inventory members the environment no longer declares, never after a failed apply, and refuses (without --allow-large-prune / --allow-dangerous-prune) to delete more than --max-prune-percent of the inventory or any Namespace, PersistentVolumeClaim, StatefulSet or CRD. --wait waits for rollouts, claims, CRDs and Jobs and reports Current / InProgress / Failed.

            Exit status: 0 everything applied (and healthy with --wait), 1 something failed, was refused or did not become healthy, 2 an error before anything was applied.

            Examples:
              tai-gitops apply prod --wait
              tai-gitops apply prod --prune --dry-run
              tai-gitops apply environments/dev --kubeconfig /tmp/kubeconfig -o json
            """
    )

    @OptionGroup var target: EnvironmentArguments

    @Flag(name: .customLong("dry-run"), help: "Send every write as a server-side dry run.")
    var dryRun = false

    @Flag(help: "Delete inventory members the environment no longer declares.")
    var prune = false

    @Flag(help: "Wait until every object is healthy (or --timeout passes).")
    var wait = false

    @Option(help: "How long --wait waits, in seconds.")
    var timeout: Int = 300

    @Flag(name: .customLong("force-conflicts"), help: "Take over fields another field manager owns.")
    var forceConflicts = false

    @Flag(name: .customLong("replace-immutable"), help: "Delete and recreate objects whose immutable fields changed.")
    var replaceImmutable = false

    @Option(name: .customLong("max-prune-percent"), help: "The largest share of the inventory a prune may delete.")
    var maxPrunePercent: Int = 25

    @Flag(name: .customLong("allow-large-prune"), help: "Prune even more than --max-prune-percent of the inventory.")
    var allowLargePrune = false

    @Flag(name: .customLong("allow-dangerous-prune"), help: "Allow pruning Namespaces, PersistentVolumeClaims, StatefulSets and CRDs.")
    var allowDangerousPrune = false

    @Option(name: .customLong("field-manager"), help: "The field manager tai-gitops applies as.")
    var fieldManager: String = "tai-gitops"

    @Option(name: .shortAndLong, help: "Output: text (a line per object, then a summary) or json.")
    var output: TextOrJSON = .text

    func run() async throws {
        try await exitingTwoOnError {
            let env = try await target.prepare()
            let options = ApplyOptions(
                inventory: env.inventory, fieldManager: fieldManager, dryRun: dryRun, prune: prune, wait: wait, timeout: .seconds(timeout),
                forceConflicts: forceConflicts, replaceImmutable: replaceImmutable, maxPruneFraction: Double(maxPrunePercent) / 100,
                allowLargePrune: allowLargePrune, allowDangerousPrune: allowDangerousPrune, ignore: env.rules)
            let text = output == .text
            let suffix = dryRun ? " (server dry run)" : ""
            let writer = ProgressWriter()
            let report = try await Applier(client: env.client).apply(env.objects, options: options) { result in
                guard text, result.action != .unchanged || result.health != nil else { return }
                writer.write(ApplyOutput.line(result) + suffix + "\n")
            }
            writer.flush()
            let summary = text ? ApplyOutput.summary(report, environment: env.target.name) : ApplyOutput.json(report, environment: env.target.name)
            FileHandle.standardOutput.write(Data(summary.utf8))
            exitWithoutTeardown(report.succeeded ? 0 : 1)
        }
    }
}

/// How apply results are printed.
enum ApplyOutput {
    static func line(_ r: ObjectResult) -> String {
        var line = "\(r.reference)"
        if let ns = r.namespace { line += " -n \(ns)" }
        if let health = r.health {
            line += " \(health.rawValue)"
        } else {
            line += " \(r.action.rawValue)"
        }
        if let message = r.message { line += ": \(message)" }
        return line
    }

    static func summary(_ report: ApplyReport, environment: String) -> String {
        var out = ""
        if let skipped = report.pruneSkipped { out += "\(skipped)\n" }
        let unhealthy = report.unhealthy.count
        out += "\(environment): \(report.count(.created)) created, \(report.count(.configured)) configured, \(report.count(.unchanged)) unchanged, "
        out += "\(report.count(.deleted)) deleted, \(report.count(.skipped)) skipped, \(report.count(.failed)) failed"
        if unhealthy > 0 { out += ", \(unhealthy) not healthy" }
        out += " (\(report.writes) writes, \(report.requests) requests, \(String(format: "%.2f", report.seconds)) s)\n"
        return out
    }

    static func json(_ report: ApplyReport, environment: String) -> String {
        let objects: [Value] = report.results.map { r in
            var m: ValueMap = ["apiVersion": .string(r.apiVersion), "kind": .string(r.kind), "name": .string(r.name), "action": .string(r.action.rawValue)]
            if let ns = r.namespace { m["namespace"] = .string(ns) }
            if let h = r.health { m["health"] = .string(h.rawValue) }
            if let msg = r.message { m["message"] = .string(msg) }
            return .map(m)
        }
        var summary: ValueMap = [
            "environment": .string(environment), "created": .int(report.count(.created)), "configured": .int(report.count(.configured)),
            "unchanged": .int(report.count(.unchanged)), "deleted": .int(report.count(.deleted)), "skipped": .int(report.count(.skipped)),
            "failed": .int(report.count(.failed)), "writes": .int(report.writes), "requests": .int(report.requests), "succeeded": .bool(report.succeeded),
        ]
        if let skipped = report.pruneSkipped { summary["pruneSkipped"] = .string(skipped) }
        return JSON.serializePretty(["summary": .map(summary), "objects": .list(objects)]) + "\n"
    }
}
