import ArgumentParser
import Foundation
import TaiApply
import TaiCore
import TaiDiff
import TaiKube

extension Adopter.PreviousTool: ExpressibleByArgument {}

/// `tai-gitops adopt ENV`: take over objects another tool made, writing no value.
struct AdoptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adopt",
        abstract: "Take over a cluster that Helm, kubectl, Argo CD or Flux manage: label, inventory and field ownership, no value written.",
        discussion: """
            For every object of the environment that is equal to git in the cluster, adopt labels it as a member of the environment's inventory and moves the ownership of the fields git declares from their previous field managers (kubectl's client-side apply with its last-applied-configuration annotation, helm, argocd-controller, kustomize-controller, …) to tai-gitops' apply entry, so a field later removed from git is removed from the cluster. An object whose values differ is drift: it is shown and left alone (apply or diff it first). The inventory parent is written last.

            --from names the previous tool: its bookkeeping (Helm: app.kubernetes.io/managed-by, meta.helm.sh/*; Argo CD: argocd.argoproj.io/tracking-id, app.kubernetes.io/instance; Flux: kustomize.toolkit.fluxcd.io/*) is listed, and removed with --remove-previous-bookkeeping. A Helm release Secret is reported and never deleted.

            Exit status: 0 adopted (or nothing to do), 1 some objects differ from git, 2 an error.

            Examples:
              tai-gitops adopt prod --from helm --dry-run
              tai-gitops adopt prod --from helm --remove-previous-bookkeeping
              tai-gitops adopt environments/dev --kubeconfig /tmp/kubeconfig -o json
            """
    )

    @OptionGroup var target: EnvironmentArguments

    @Option(help: "The tool that manages the objects today: helm, kubectl, argocd or flux.")
    var from: Adopter.PreviousTool?

    @Flag(name: .customLong("dry-run"), help: "Show the plan; write nothing.")
    var dryRun = false

    @Flag(name: .customLong("remove-previous-bookkeeping"), help: "Also remove the previous tool's labels and annotations from the objects.")
    var removePreviousBookkeeping = false

    @Option(name: .customLong("field-manager"), help: "The field manager tai-gitops applies as.")
    var fieldManager: String = "tai-gitops"

    @Option(name: .shortAndLong, help: "Output: text or json.")
    var output: TextOrJSON = .text

    func run() async throws {
        try await exitingTwoOnError {
            let env = try await target.prepare()
            let report = try await Adopter(client: env.client).adopt(
                env.objects, inventory: env.inventory, fieldManager: fieldManager, from: from, removeBookkeeping: removePreviousBookkeeping,
                ignore: env.rules, dryRun: dryRun)
            var writes = report.writes
            if !dryRun && report.count("drifted") == 0 {
                // The inventory parent (the adopted objects are in sync now: nothing else is written).
                let applied = try await Applier(client: env.client).apply(
                    env.objects, options: ApplyOptions(inventory: env.inventory, fieldManager: fieldManager, ignore: env.rules))
                writes += applied.writes
            }
            var releases: [String] = []
            if from == .helm || from == nil, let secrets = try? await env.client.resource(apiVersion: "v1", kind: "Secret") {
                let found = (try? await env.client.list(secrets, namespace: env.inventory.namespace, labelSelector: "owner=helm")) ?? []
                releases = found.compactMap(\.name).sorted()
            }
            if output == .json {
                let plans: [Value] = report.plans.map { plan in
                    .map([
                        "object": .string(plan.id), "action": .string(plan.action), "managers": .list(plan.managers.map(Value.string)),
                        "moving": .map(ValueMap(uniqueKeysWithValues: plan.moving.sorted { $0.key < $1.key }.map { ($0.key, Value.list($0.value.map(Value.string))) })),
                        "bookkeeping": .list(plan.bookkeeping.map(Value.string)), "lastApplied": .bool(plan.lastApplied),
                        "changes": .list(plan.changes.map(Value.string)),
                    ])
                }
                let summary: Value = [
                    "environment": .string(env.target.name), "adopt": .int(report.count("adopt")), "owned": .int(report.count("owned")),
                    "drifted": .int(report.count("drifted")), "missing": .int(report.count("missing")), "writes": .int(writes), "dryRun": .bool(dryRun),
                    "helmReleaseSecrets": .list(releases.map(Value.string)),
                ]
                FileHandle.standardOutput.write(Data((JSON.serializePretty(["summary": summary, "objects": .list(plans)]) + "\n").utf8))
            } else {
                var out = ""
                for plan in report.plans where plan.action != "owned" {
                    out += "\(plan.id): \(plan.action)"
                    if !plan.managers.isEmpty { out += " (written by \(Array(Set(plan.managers)).sorted().joined(separator: ", ")))" }
                    out += "\n"
                    for (manager, fields) in plan.moving.sorted(by: { $0.key < $1.key }) {
                        out += "  ownership moves from \(manager): \(fields.count) fields (\(fields.prefix(4).joined(separator: ", "))\(fields.count > 4 ? ", …" : ""))\n"
                    }
                    if plan.lastApplied { out += "  kubectl's last-applied-configuration annotation is removed (tai-gitops' apply entry takes its place)\n" }
                    for mark in plan.bookkeeping { out += "  \(removePreviousBookkeeping ? "removes" : "keeps") \(mark)\n" }
                    for change in plan.changes { out += "  differs from git: \(change)\n" }
                }
                for release in releases { out += "Helm release Secret \(env.inventory.namespace)/\(release) is kept (delete it yourself once the adoption is done)\n" }
                out += "\(env.target.name): \(report.count("adopt")) to adopt, \(report.count("owned")) already tai-gitops', \(report.count("drifted")) differ from git, "
                out += "\(report.count("missing")) not in the cluster (\(dryRun ? "dry run, nothing written" : "\(writes) writes, no value changed"))\n"
                FileHandle.standardOutput.write(Data(out.utf8))
            }
            exitWithoutTeardown(report.count("drifted") > 0 ? 1 : 0)
        }
    }
}
