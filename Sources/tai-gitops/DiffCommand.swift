import ArgumentParser
import Foundation
import TaiCore
import TaiDiff
import TaiKube

/// `tai-gitops diff ENV|DIR`: what an apply would change in the cluster, and who changed what.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show how the cluster differs from an environment (drift, objects to create and to prune).",
        discussion: """
            An object has drifted when a server-side apply of its rendered form by tai-gitops' field manager would change the live object: server defaults, canonical quantities, status and fields other managers own that git does not mention are not drift; a value git sets differently is, and so is a field tai-gitops applied before that git no longer has. Replica counts of workloads an HPA or a KEDA ScaledObject targets belong to the autoscaler. The environment's sync settings (environments/ENV/sync.yaml, spec.ignore) name more fields to leave alone.

            Each drifted field says who wrote the live value and when (from managedFields), and whether git moved ahead or the cluster was edited. Secret values are never printed. By default drift is computed from the live objects and their managedFields (one LIST per kind and namespace); --server-side asks the API server with a dry-run apply per object instead.

            An object equal to git that another tool made (kubectl, Helm, Argo CD, Flux) and that only lacks tai-gitops' inventory label is "to adopt", not drifted: the summary counts it apart and names who wrote it; apply adopts it without changing a value.

            Exit status: 0 no drift (objects only to adopt included, unless --adopt-is-drift), 1 drift (or objects to create or prune), 2 an error (nothing is reported as "no drift" when the cluster could not be read).

            Examples:
              tai-gitops diff prod
              tai-gitops diff prod --context prod-eu -o json | jq '.summary'
              tai-gitops diff environments/dev --kubeconfig /tmp/kubeconfig --server-side
              tai-gitops diff prod --repo https://git.example.com/tai/config.git --revision main --git-password-env GIT_TOKEN
            """
    )

    @OptionGroup var target: EnvironmentArguments

    @Flag(name: .customLong("server-side"), help: "Ask the API server (dry-run apply) instead of computing locally.")
    var serverSide = false

    @Option(name: .customLong("field-manager"), help: "The field manager tai-gitops applies as.")
    var fieldManager: String = "tai-gitops"

    @Option(name: .shortAndLong, help: "Output: text (a diff per object and a summary) or json.")
    var output: TextOrJSON = .text

    @Flag(name: .customLong("adopt-is-drift"), help: "Exit 1 also when objects are only to adopt (equal to git, made by another tool).")
    var adoptIsDrift = false

    func run() async throws {
        try await exitingTwoOnError {
            let env = try await target.prepare()
            let report = try await Differ(client: env.client).diff(
                env.objects, options: DiffOptions(fieldManager: fieldManager, serverSide: serverSide, ignore: env.rules, inventory: env.inventory))
            let text: String
            switch output {
            case .text:
                let color = isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
                text = ReportRenderer.text(report, environment: env.target.name, color: color)
            case .json:
                text = ReportRenderer.json(report, environment: env.target.name)
            }
            FileHandle.standardOutput.write(Data(text.utf8))
            exitWithoutTeardown(report.hasDrift || (adoptIsDrift && report.count(.adopt) > 0) ? 1 : 0)
        }
    }
}
