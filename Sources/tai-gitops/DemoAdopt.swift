import Foundation
import TaiAgent
import TaiApply
import TaiCore
import TaiDiff
import TaiKube

/// The demo's adoption act: staging, installed the way Helm installs it, taken over with no value written.
extension DemoCommand {
    struct AdoptionFigures {
        var adopted: Int
        var writes: Int
        var clean: Bool
    }

    func adoption(client: KubeClient, out: DemoOutput) async throws -> AdoptionFigures {
        let target = try EnvironmentTarget("staging", repo: repo)
        let objects = try target.render()
        out.line("  $ helm install tai ./chart -n tai-staging   (as Helm writes it: field manager helm, its labels and annotations)")
        for var object in objects {
            object.set(path: ["metadata", "labels", "app.kubernetes.io/managed-by"], to: "Helm")
            object.set(path: ["metadata", "annotations", "meta.helm.sh/release-name"], to: "tai")
            object.set(path: ["metadata", "annotations", "meta.helm.sh/release-namespace"], to: "tai-staging")
            _ = try await client.apply(object, fieldManager: "helm", force: true)
        }
        let rendered = RenderedEnvironment.labelled(name: target.name, objects: objects, fallbackNamespace: "default")
        let rules = try target.ignoreRules()
        out.line("  $ tai-gitops diff staging")
        let before = try await Differ(client: client).diff(rendered.objects, options: DiffOptions(ignore: rules, inventory: rendered.inventory))
        out.line("  staging: \(before.count(.drifted)) drifted, \(before.count(.adopt)) to adopt (written by helm; equal to git) — exit \(before.hasDrift ? 1 : 0), not a false alarm")
        out.line("  $ tai-gitops adopt staging --from helm --remove-previous-bookkeeping")
        let report = try await Adopter(client: client).adopt(
            objects, inventory: rendered.inventory, from: .helm, removeBookkeeping: true, ignore: rules, dryRun: false)
        let parent = try await Applier(client: client).apply(objects, options: ApplyOptions(inventory: rendered.inventory, ignore: rules))
        out.line("  \(report.count("adopt")) objects adopted: the inventory label added, Helm's marks removed, the fields git declares now tai-gitops' — \(report.writes + parent.writes) writes, no value changed")
        let after = try await Differ(client: client).diff(rendered.objects, options: DiffOptions(ignore: rules, inventory: rendered.inventory))
        out.line("  $ tai-gitops diff staging")
        out.line("  staging: \(after.count(.drifted)) drifted, \(after.count(.adopt)) to adopt, \(after.count(.inSync)) in sync")
        return AdoptionFigures(adopted: report.count("adopt"), writes: report.writes + parent.writes, clean: !after.hasDrift && after.count(.adopt) == 0)
    }
}
