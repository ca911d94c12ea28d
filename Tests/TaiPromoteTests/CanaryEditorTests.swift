import Foundation
import TaiCore
import TaiTesting
import Testing
import TaiYAML

@testable import TaiPromote

/// A copy of this repository's TAI config (base, overlays, environments) to promote in.
struct ConfigCopy {
    let dir: TemporaryDirectory

    init() throws {
        dir = try TemporaryDirectory("tai-promote")
        for top in ["base", "overlays", "environments"] {
            try ProcessRunner.check("cp", ["-R", TaiTesting.repositoryRoot + "/" + top, dir.path + "/" + top])
        }
    }

    func editor(_ env: String) throws -> CanaryEditor {
        let settings = try YAML.parse(try read("environments/\(env)/sync.yaml"))
        let policy = try #require(try PromotionPolicy.parse(settings, file: "environments/\(env)/sync.yaml"))
        return CanaryEditor(policy: policy, environment: env, root: dir.path, path: "environments/\(env)")
    }

    func read(_ file: String) throws -> String { try String(contentsOfFile: dir.path + "/" + file, encoding: .utf8) }

    func write(_ change: PromotionChange) throws {
        for (file, bytes) in change.files { try dir.write(file, bytes: bytes) }
    }

    /// The lines that differ between two texts of the same length in lines.
    static func changedLines(_ a: String, _ b: String) -> [String] {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false), y = b.split(separator: "\n", omittingEmptySubsequences: false)
        guard x.count == y.count else { return ["line counts differ: \(x.count) vs \(y.count)"] }
        return zip(x, y).filter { $0 != $1 }.map { "\($0.0) → \($0.1)" }
    }
}

@Suite("Canary edits on the TAI environments")
struct CanaryEditorTests {
    @Test("prod 10 → 50 → 100 → finish: each step moves only its values; comments and layout stay")
    func fullRun() throws {
        let repo = try ConfigCopy()
        defer { repo.dir.remove() }
        let editor = try repo.editor("prod")
        #expect(try editor.state() == CanaryState(stableTag: "v1.0.0", canaryTag: "v1.0.0", canaryWeight: 10))

        let k0 = try repo.read("environments/prod/kustomization.yaml"), w0 = try repo.read("environments/prod/canary-weights.yaml")
        let first = try editor.plan(.next, tag: "v1.1.0")
        #expect(first.kind == .step(weight: 10, index: 0))
        #expect(first.branch == "promote/prod/tai-api-v1.1.0-10")
        #expect(first.files.keys.sorted() == ["environments/prod/kustomization.yaml"], "the weights are 90/10 already")
        try repo.write(first)
        #expect(ConfigCopy.changedLines(k0, try repo.read("environments/prod/kustomization.yaml")) == ["  newTag: v1.0.0 →   newTag: v1.1.0"])
        #expect(try editor.state() == CanaryState(stableTag: "v1.0.0", canaryTag: "v1.1.0", canaryWeight: 10))

        let second = try editor.plan(.next, tag: "v1.1.0")
        #expect(second.kind == .step(weight: 50, index: 1) && second.weightsText == "stable=50,canary=50")
        try repo.write(second)
        #expect(ConfigCopy.changedLines(w0, try repo.read("environments/prod/canary-weights.yaml")) == ["  value: 90 →   value: 50", "  value: 10 →   value: 50"])
        #expect(try repo.read("environments/prod/canary-weights.yaml").hasPrefix("# The canary weights of tai-vs"))

        try repo.write(try editor.plan(.next, tag: "v1.1.0"))
        #expect(try editor.state() == CanaryState(stableTag: "v1.0.0", canaryTag: "v1.1.0", canaryWeight: 100))
        let finish = try editor.plan(.next, tag: "v1.1.0")
        #expect(finish.kind == .finish && finish.weightsText == "stable=100,canary=0" && finish.branch == "promote/prod/tai-api-v1.1.0-finish")
        try repo.write(finish)
        #expect(try editor.state() == CanaryState(stableTag: "v1.1.0", canaryTag: "v1.1.0", canaryWeight: 0))
        let k1 = try repo.read("environments/prod/kustomization.yaml")
        #expect(ConfigCopy.changedLines(k0, k1) == ["  newTag: v1.0.0 →   newTag: v1.1.0", "  newTag: v1.0.0 →   newTag: v1.1.0"])
        #expect(throws: PromoteError.self) { try editor.plan(.next, tag: "v1.1.0") }  // already stable
    }

    @Test("rollback: the canary's image back to the stable tag, weights 100/0")
    func rollback() throws {
        let repo = try ConfigCopy()
        defer { repo.dir.remove() }
        let editor = try repo.editor("staging")
        #expect(throws: PromoteError.self) { try editor.plan(.rollback, tag: nil) }  // nothing in progress
        try repo.write(try editor.plan(.step(50), tag: "v1.2.0"))
        let back = try editor.plan(.rollback, tag: nil)
        #expect(back.kind == .rollback && back.tag == "v1.2.0" && back.branch == "rollback/staging/tai-api-v1.2.0")
        try repo.write(back)
        let state = try editor.state()
        #expect(state.canaryTag == state.stableTag && state.canaryWeight == 0)
    }

    @Test("refused, naming the reason, with nothing written: bad tag, unknown step, another promotion, broken routing")
    func refusals() throws {
        let repo = try ConfigCopy()
        defer { repo.dir.remove() }
        let editor = try repo.editor("prod")
        func reason(_ body: () throws -> PromotionChange) -> String {
            do { _ = try body(); return "accepted" } catch { return "\(error)" }
        }
        #expect(reason { try editor.plan(.next, tag: "v1.1.0!") }.contains("not a well-formed image tag"))
        #expect(reason { try editor.plan(.next, tag: "-v1") }.contains("not a well-formed image tag"))
        #expect(reason { try editor.plan(.step(30), tag: "v1.1.0") }.contains("not a step of the plan [10, 50, 100]"))
        try repo.write(try editor.plan(.next, tag: "v1.1.0"))
        #expect(reason { try editor.plan(.next, tag: "v1.2.0") }.contains("a promotion of tai-api to v1.1.0 is in progress"))

        // The DestinationRule loses the canary subset: the route would point nowhere.
        let dr = try repo.read("overlays/istio/destinationrule.yaml")
        try repo.dir.write("overlays/istio/destinationrule.yaml", dr.replacingOccurrences(of: "  - name: canary\n", with: "  - name: canary2\n"))
        #expect(reason { try editor.plan(.step(50), tag: "v1.1.0") }.contains("subset 'canary' of VirtualService tai-vs is not in DestinationRule tai-dr"))
        // The canary subset selects labels the canary's pods do not have.
        try repo.dir.write("overlays/istio/destinationrule.yaml", dr.replacingOccurrences(of: "version: v2-canary", with: "version: v3"))
        #expect(reason { try editor.plan(.step(50), tag: "v1.1.0") }.contains("selects no pod of Deployment tai-api-canary"))
        try repo.dir.write("overlays/istio/destinationrule.yaml", dr)
        // A patch after the weights file pins the canary weight: the edit would not take effect.
        let k = try repo.read("environments/prod/kustomization.yaml")
        try repo.dir.write("environments/prod/kustomization.yaml", k + "- target: {kind: VirtualService}\n  patch: '[{op: replace, path: /spec/http/0/route/1/weight, value: 10}, {op: replace, path: /spec/http/0/route/0/weight, value: 90}]'\n")
        #expect(reason { try editor.plan(.step(50), tag: "v1.1.0") }.contains("after the edit the tree reads"))
        try repo.dir.write("environments/prod/kustomization.yaml", k)
    }

    @Test("an environment without a weights file gets one on its first promotion, listed in its patches; the rest of the kustomization unchanged")
    func firstPromotionCreatesWeights() throws {
        let repo = try ConfigCopy()
        defer { repo.dir.remove() }
        // Staging as someone else would have written it: the 90/10 of the Istio overlay, no weights file.
        try FileManager.default.removeItem(atPath: repo.dir.path + "/environments/staging/canary-weights.yaml")
        let k = try repo.read("environments/staging/kustomization.yaml")
        let start = try #require(k.range(of: "patches:\n# The canary split"))
        let bare = String(k[..<start.lowerBound])
        try repo.dir.write("environments/staging/kustomization.yaml", bare)
        let editor = try repo.editor("staging")
        #expect(try editor.state().canaryWeight == 10)
        let change = try editor.plan(.step(50), tag: "v1.2.0")
        #expect(change.files.keys.sorted() == ["environments/staging/canary-weights.yaml", "environments/staging/kustomization.yaml"])
        #expect(change.explanation.contains("First promotion here: environments/staging/canary-weights.yaml is created"))
        try repo.write(change)
        let after = try repo.read("environments/staging/kustomization.yaml")
        #expect(after.hasPrefix(bare.replacingOccurrences(of: "newTag: v1.1.0\n- name: tai-worker", with: "newTag: v1.2.0\n- name: tai-worker")), "\(after)")
        #expect(after.hasSuffix("patches:\n- path: canary-weights.yaml\n  target:\n    kind: VirtualService\n    name: tai-vs\n"), "\(after)")
        #expect(try editor.state() == CanaryState(stableTag: "v1.1.0", canaryTag: "v1.2.0", canaryWeight: 50))
        // From then on the file is edited in place like any other.
        let next = try editor.plan(.next, tag: "v1.2.0")
        #expect(next.files.keys.sorted() == ["environments/staging/canary-weights.yaml"] && next.weightsText == "stable=0,canary=100")
        // dev's kustomization already has a patches list: the entry goes after its last item.
        let devText = try repo.read("environments/dev/kustomization.yaml")
        let appended = try YAML.appendingListItem(in: devText, key: "patches", item: "- path: w.yaml\n")
        #expect(appended == devText + "- path: w.yaml\n")
    }

    @Test("dev has no VirtualService: the canary image first, then the finish")
    func withoutWeights() throws {
        let repo = try ConfigCopy()
        defer { repo.dir.remove() }
        let editor = try repo.editor("dev")
        let state = try editor.state()
        #expect(state.canaryWeight == nil && state.inProgress, "dev runs a release candidate as its canary: \(state)")
        #expect(throws: PromoteError.self) { try editor.plan(.next, tag: "v1.3.0") }
        let finish = try editor.plan(.next, tag: "v1.2.0-rc.1")
        #expect(finish.kind == .finish && finish.weightsText.hasPrefix("n/a"))
        try repo.write(finish)
        try repo.write(try editor.plan(.next, tag: "v1.3.0"))
        #expect(try editor.state() == CanaryState(stableTag: "v1.2.0-rc.1", canaryTag: "v1.3.0", canaryWeight: nil))
    }

    @Test("ValueEdit refuses a value someone else moved meanwhile, naming file and field")
    func staleEdit() throws {
        let edit = ValueEdit(file: "k.yaml", path: [.key("images"), .index(0), .key("newTag")], old: "v1", new: "v2")
        let moved = Array("images:\n- name: a\n  newTag: v9\n".utf8)
        #expect(throws: PromoteError.self) { try ValueEdit.apply([edit]) { _ in moved } }
        let fresh = try ValueEdit.apply([edit]) { _ in Array("images:\n- name: a\n  newTag: v1 # c\n".utf8) }
        #expect(fresh["k.yaml"] == Array("images:\n- name: a\n  newTag: v2 # c\n".utf8))
    }
}
