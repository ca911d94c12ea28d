import ArgumentParser
import Foundation
import TaiCore
import TaiDiff
import TaiGit
import TaiHTTP
import TaiKube
import TaiProcess
import TaiPromote
import TaiSource

/// Where promotion pull requests go.
struct ForgeOptions: ParsableArguments {
    @Option(help: "The forge to open pull requests on: github, gitlab or gitea.")
    var forge: ForgeSettings.Kind?

    @Option(name: .customLong("forge-url"), help: "The forge's API root (default https://api.github.com; GitLab and Gitea: the server, e.g. https://gitea.example.com).")
    var forgeURL: String?

    @Option(name: .customLong("forge-repo"), help: "The repository on the forge: owner/name (GitLab: the project's path or id).")
    var forgeRepo: String?

    @Option(name: .customLong("forge-token-file"), help: "A file holding the forge's API token.")
    var forgeTokenFile: String?

    @Option(name: .customLong("forge-token-env"), help: "An environment variable holding the forge's API token.")
    var forgeTokenEnv: String = "TAI_FORGE_TOKEN"

    /// The forge client, or nil when no forge is named.
    func client() throws(CLIError) -> ForgeClient? {
        guard let forge else { return nil }
        guard let forgeRepo, !forgeRepo.isEmpty else { throw CLIError(message: "--forge \(forge.rawValue) needs --forge-repo OWNER/NAME") }
        if forge != .github && forgeURL == nil { throw CLIError(message: "--forge \(forge.rawValue) needs --forge-url (the server's address)") }
        var token: String?
        if let file = forgeTokenFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError(message: "--forge-token-file \(file) cannot be read") }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            token = ProcessInfo.processInfo.environment[forgeTokenEnv]
        }
        guard let token, !token.isEmpty else {
            throw CLIError(message: "--forge \(forge.rawValue): no API token (--forge-token-file FILE, or $\(forgeTokenEnv))")
        }
        return ForgeClient(settings: ForgeSettings(kind: forge, url: forgeURL, repository: forgeRepo, token: token))
    }
}

extension ForgeSettings.Kind: ExpressibleByArgument {}

/// The repository a promotion reads and writes, and how it publishes.
struct PromoteOptions: ParsableArguments {
    @Option(help: "The config repository: a checkout (default: the one around the current directory), or a git URL (then --push is needed).")
    var repo: String = "."

    @Option(help: "The branch promotions start from and merge into.")
    var base: String = "main"

    @Option(help: "The environment's sync settings in the repository (default environments/ENV/sync.yaml).")
    var settings: String?

    @Flag(help: "Push the commit to the checkout's origin (or the --repo URL), rebasing and retrying when the branch moved; without it the commit is made in the checkout only.")
    var push = false

    @Option(help: "With --push from a checkout: the remote to push to (default: origin's URL).")
    var remote: String?

    @Option(name: .customLong("cache-dir"), help: "Where clones and snapshots are kept (default ~/.cache/tai-gitops).")
    var cacheDir: String?

    @Option(name: .customLong("author-name"), help: "The commit's author.")
    var authorName: String = "tai-gitops"

    @Option(name: .customLong("author-email"), help: "The commit author's e-mail.")
    var authorEmail: String = "tai-gitops@localhost"

    @Option(name: .customLong("signing-key"), help: "An SSH private key to sign the commit with.")
    var signingKey: String?

    @OptionGroup(title: "Git access (for reading and pushing)") var git: GitCredentialOptions

    @OptionGroup var forge: ForgeOptions

    /// The promoter for these options: the URL it reads and writes and the forge. `readOnly`: it
    /// only reads (status, analysis without --act), so a remote URL needs no --push.
    func promoter(readOnly: Bool = false) throws(CLIError) -> Promoter {
        let url: String
        var checkout: String?
        if SourceOptions.isURL(repo) {
            guard push || readOnly else { throw CLIError(message: "--repo \(repo) is a remote repository: add --push to commit to it (or run in a checkout)") }
            url = repo
        } else {
            let top = git(["rev-parse", "--show-toplevel"], in: repo)
            guard let top, !top.isEmpty else { throw CLIError(message: "\(repo) is not in a git checkout (--repo names the config repository)") }
            if push {
                if let remote {
                    url = remote
                } else {
                    guard let origin = git(["remote", "get-url", "origin"], in: top), !origin.isEmpty else {
                        throw CLIError(message: "--push: the checkout \(top) has no remote 'origin' (--remote names one)")
                    }
                    url = origin.hasPrefix("/") ? "file://" + origin : origin
                }
            } else {
                url = "file://" + top
                checkout = top
            }
        }
        let credentials = try git.credentials()
        var promoter = Promoter(
            cache: SourceCache(root: cacheDir ?? SourceCache.defaultRoot), url: url, base: base, credentials: credentials,
            author: Identity(name: authorName, email: authorEmail), signingKey: signingKey, forge: try forge.client())
        promoter.checkout = checkout
        return promoter
    }

    private func git(_ arguments: [String], in directory: String) -> String? {
        guard let result = try? ChildProcess.run("git", ["-C", directory] + arguments), result.status == 0 else { return nil }
        return result.outputText.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// How a step, a rollback or an analysis's action is published beyond its commit.
struct PublishFlags: ParsableArguments {
    @Flag(name: .customLong("open-pr"), help: "Open a pull request (never a second one for the same step).")
    var openPR = false

    @Flag(name: .customLong("auto-merge"), help: "Merge it at once where the environment allows it (spec.promotion.autoMerge); without --open-pr, commit on the base branch directly.")
    var autoMerge = false

    var mode: PublishMode { PublishMode(openPullRequest: openPR, autoMerge: autoMerge) }
}

/// `tai-gitops promote`: canary steps as commits and pull requests.
struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Promote a canary image step by step, as commits and pull requests.",
        discussion: """
            Each step is one commit on its own branch (promote/ENV/IMAGE-TAG-STEP) that moves the canary image's tag and the VirtualService weights of the environment's plan (spec.promotion in its sync.yaml; default 10 → 50 → 100), then, on finish, the stable image's tag with the canary back at weight 0. Only the changed values move: comments, order and layout of the files stay. Merging the pull request is what rolls the step out.

            Before anything is written the changed environment is rendered and checked: the weights of every route sum to 100, each route's subset is in the DestinationRule and selects the pods it should, the tags arrive. A refused promotion says why and writes nothing.

            Examples:
              tai-gitops promote prod --image tai-api=v1.1.0                     # the next step, committed in this checkout
              tai-gitops promote prod --image tai-api=v1.1.0 --step 50 --push --open-pr --forge github --forge-repo tai/config
              tai-gitops promote prod --image tai-api=v1.1.0 --finish --push --open-pr --auto-merge --forge gitea --forge-url https://git.example.com --forge-repo tai/config
              tai-gitops promote prod --image tai-api=v1.1.0 --dry-run
              tai-gitops promote status prod
              tai-gitops promote analyze prod --prometheus http://prometheus:9090
            """,
        subcommands: [PromoteStep.self, PromoteStatus.self, PromoteAnalyze.self],
        defaultSubcommand: PromoteStep.self
    )
}

/// `tai-gitops promote ENV --image NAME=TAG [--step N | --next | --finish]`.
struct PromoteStep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step", abstract: "Commit the next (or a given) step of a canary promotion (the default of `promote`).")

    @Argument(help: "The environment (its sync settings name the promotion plan).")
    var environment: String

    @Option(help: "The image and tag to promote: NAME=TAG (NAME is the environment's spec.promotion.image).")
    var image: String

    @Option(help: "Go to this step (a weight of the plan).")
    var step: Int?

    @Flag(help: "Go to the next step of the plan (the default).")
    var next = false

    @Flag(help: "Make the tag the stable one; the canary back to weight 0.")
    var finish = false

    @OptionGroup var publish: PublishFlags

    @Flag(name: .customLong("dry-run"), help: "Show what would change; write nothing.")
    var dryRun = false

    @OptionGroup var options: PromoteOptions

    @Option(name: .shortAndLong, help: "Output: text or json.")
    var output: TextOrJSON = .text

    func validate() throws {
        if [step != nil, next, finish].filter({ $0 }).count > 1 { throw ValidationError("choose one of --step N, --next and --finish") }
        guard image.contains("=") else { throw ValidationError("--image takes NAME=TAG, e.g. --image tai-api=v1.1.0") }
    }

    func run() async throws {
        try await exitingTwoOnError {
            let parts = image.split(separator: "=", maxSplits: 1).map(String.init)
            let action: PromotionAction = step.map { .step($0) } ?? (finish ? .finish : .next)
            let request = PromotionRequest(environment: environment, action: action, tag: parts.count > 1 ? parts[1] : "", image: parts[0], settingsFile: options.settings)
            let promoter = try options.promoter()
            if dryRun {
                let (editor, _) = try promoter.editor(environment: environment, settingsFile: options.settings)
                let change = try promoter.plan(request)
                printDryRun(change, root: editor.root)
                return
            }
            let outcome = try await promoter.promote(request, mode: publish.mode)
            printOutcome(outcome, pushedTo: options.push ? promoter.url : nil, output: output)
        }
    }

    func printDryRun(_ change: PromotionChange, root: String) {
        var out = "\(change.title) — dry run, nothing written\n  \(change.explanation)\n  branch: \(change.branch)\n"
        for (file, bytes) in change.files.sorted(by: { $0.key < $1.key }) {
            let before = (try? String(contentsOfFile: root + "/" + file, encoding: .utf8)) ?? ""
            out += UnifiedDiff.render(
                before, String(decoding: bytes, as: UTF8.self), from: FileManager.default.fileExists(atPath: root + "/" + file) ? "a/" + file : "/dev/null",
                to: "b/" + file, context: 1)
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}

func printOutcome(_ outcome: PromotionOutcome, pushedTo: String?, output: TextOrJSON) {
    if output == .json {
        FileHandle.standardOutput.write(Data((JSON.serializePretty(outcome.json) + "\n").utf8))
        return
    }
    let change = outcome.change
    var out = "\(change.title)\n  weights: \(change.weightsText); step \(change.stepText)\n"
    out += "  files: \(change.files.keys.sorted().joined(separator: ", "))\n"
    if let commit = outcome.commit {
        out += outcome.alreadyPublished ? "  \(outcome.branch) already holds this step at \(commit.hex.prefix(12)): nothing new committed\n"
            : "  committed \(commit.hex.prefix(12)) on \(outcome.branch)" + (pushedTo.map { " and pushed to \($0)" } ?? " in the checkout") + "\n"
    }
    for pr in outcome.closed { out += "  closed pull request #\(pr.number) (\(pr.head)): superseded\n" }
    if let pr = outcome.pullRequest {
        out += "  pull request #\(pr.number) \(outcome.createdPullRequest ? "opened" : "already open"): \(pr.url)\n"
    }
    if outcome.merged { out += "  merged into the base branch: the agent rolls it out at its next sync (or at once with a webhook)\n" }
    for event in outcome.events { out += "  note: \(event)\n" }
    FileHandle.standardOutput.write(Data(out.utf8))
}

/// `tai-gitops rollback ENV`: the canary back to the stable image, as a commit or pull request.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Roll a canary back in git: the stable image and 100/0 weights, as a commit or pull request.",
        discussion: """
            Writes the commit that restores the environment's canary image to the stable tag and the weights to 100/0, on rollback/ENV/IMAGE-TAG, with the failed analysis (query, threshold, value, time) in its message and trailers when --prometheus is given. Pending promotion pull requests of the environment and image are closed: the rollback supersedes them.

            Examples:
              tai-gitops rollback prod
              tai-gitops rollback prod --prometheus http://prometheus:9090 --push --open-pr --forge github --forge-repo tai/config
              tai-gitops rollback dev --push --auto-merge
            """)

    @Argument(help: "The environment.")
    var environment: String

    @Option(help: "A Prometheus server: the analysis that failed is run once more and recorded in the commit.")
    var prometheus: String?

    @OptionGroup var publish: PublishFlags

    @OptionGroup var options: PromoteOptions

    @Option(name: .shortAndLong, help: "Output: text or json.")
    var output: TextOrJSON = .text

    func run() async throws {
        try await exitingTwoOnError {
            let promoter = try options.promoter()
            var analysis: AnalysisVerdict?
            if let prometheus {
                let checks = try promoter.checks(environment: environment, settingsFile: options.settings).checks
                analysis = await PrometheusAnalyzer(url: prometheus).evaluate(checks)
            }
            let outcome = try await promoter.promote(
                PromotionRequest(environment: environment, action: .rollback, settingsFile: options.settings, analysis: analysis),
                mode: publish.mode)
            printOutcome(outcome, pushedTo: options.push ? promoter.url : nil, output: output)
        }
    }
}

/// `tai-gitops promote status ENV`: where the canary stands in git and in the cluster.
struct PromoteStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Where each canary stands: from git (the base branch, pending branches and pull requests) and from the cluster.")

    @Argument(help: "The environment.")
    var environment: String

    @Flag(name: .customLong("no-cluster"), help: "Only what git says.")
    var noCluster = false

    @OptionGroup var options: PromoteOptions

    @OptionGroup var cluster: ClusterOptions

    @Option(name: .shortAndLong, help: "Output: text or json.")
    var output: TextOrJSON = .text

    func run() async throws {
        try await exitingTwoOnError {
            let promoter = try options.promoter(readOnly: true)
            let (editor, snapshot) = try promoter.editor(environment: environment, settingsFile: options.settings)
            let objects = try editor.render()
            let state = try editor.state(rendered: objects)
            let policy = editor.policy
            var json: ValueMap = [
                "environment": .string(environment), "image": .string(policy.image), "base": .string(options.base), "revision": .string(snapshot.commit.hex),
                "stableTag": .string(state.stableTag), "canaryTag": .string(state.canaryTag), "inProgress": .bool(state.inProgress),
                "plan": .list(policy.steps.map { .int($0) }),
            ]
            if let w = state.canaryWeight { json["canaryWeight"] = .int(w) }
            var out = "\(environment): \(state.summary) — git, \(options.base) at \(snapshot.commit.hex.prefix(12))\n"
            let index = state.stepIndex(in: policy.steps)
            if state.inProgress {
                let nextStep = index.flatMap { policy.steps.indices.contains($0 + 1) ? String(policy.steps[$0 + 1]) : nil } ?? "finish"
                out += "  plan \(policy.steps): " + (index.map { "at step \($0 + 1)/\(policy.steps.count)" } ?? "off the plan") + "; next: \(nextStep)\n"
                json["next"] = .string(nextStep)
            }
            var pending: [Value] = []
            for prefix in ["promote/\(environment)/", "rollback/\(environment)/"] {
                for branch in (try? promoter.cache.branches(url: promoter.url, prefix: prefix, base: options.base)) ?? [] where !branch.merged {
                    out += "  pending branch \(branch.name) at \(branch.commit.hex.prefix(12))\n"
                    pending.append(.map(["branch": .string(branch.name), "commit": .string(branch.commit.hex)]))
                }
            }
            json["pendingBranches"] = .list(pending)
            if let forge = promoter.forge {
                do {
                    let prs = try await forge.openPullRequests(headPrefix: "promote/\(environment)/") + forge.openPullRequests(headPrefix: "rollback/\(environment)/")
                    for pr in prs { out += "  open pull request #\(pr.number) \(pr.head): \(pr.title) \(pr.url)\n" }
                    json["pullRequests"] = .list(prs.map(\.json))
                } catch {
                    out += "  pull requests: \(error)\n"
                }
            }
            if !noCluster {
                let namespace = objects.first { $0["kind"] == "Namespace" }?.name ?? cluster.namespace ?? "default"
                do {
                    let config = try cluster.clusterConfig(preferredContext: nil)
                    let live = try await LiveCanary.read(client: KubeClient(config: config, settings: cluster.clientSettings), namespace: namespace, policy: policy)
                    let weights = live.weights.map { "\($0.subset)=\($0.weight)" }.joined(separator: " ")
                    out += "  cluster (\(namespace)): " + (weights.isEmpty ? "no VirtualService \(policy.virtualService)" : "weights \(weights)") + "\n"
                    for w in [live.stable, live.canary].compactMap({ $0 }) { out += "    \(w.text)\n" }
                    let liveWeight = live.weight(of: policy.canarySubset)
                    let inSync = liveWeight == state.canaryWeight && (live.canary?.image?.hasSuffix(":" + state.canaryTag) ?? true)
                    out += inSync ? "    the cluster runs what git says\n" : "    the cluster differs from git (not synced yet?)\n"
                    var c = live.json
                    c["inSync"] = .bool(inSync)
                    json["cluster"] = c
                } catch {
                    out += "  cluster: \(error)\n"
                    json["cluster"] = .map(["error": .string("\(error)")])
                }
            }
            if output == .json {
                FileHandle.standardOutput.write(Data((JSON.serializePretty(.map(json)) + "\n").utf8))
            } else {
                FileHandle.standardOutput.write(Data(out.utf8))
            }
        }
    }
}

/// `tai-gitops promote analyze ENV`: the step's checks against Prometheus, and what follows.
struct PromoteAnalyze: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Run the canary step's metric checks against Prometheus; with --act, open the next step or the rollback.",
        discussion: """
            The checks are spec.promotion.analysis of the environment: the success rate of the canary's requests (istio_requests_total) and its p99 latency (istio_request_duration_milliseconds_bucket) by default, plus any queries listed there. A step passes after --checks passing runs in a row, --interval apart; missing data, an unreachable Prometheus or a query error is never a pass.

            Exit status: 0 passed, 1 failed, 3 inconclusive, 2 an error.

            Examples:
              tai-gitops promote analyze prod --prometheus http://prometheus:9090
              tai-gitops promote analyze prod --prometheus http://prometheus:9090 --checks 3 --interval 1m --act --push --open-pr --forge github --forge-repo tai/config
            """)

    @Argument(help: "The environment.")
    var environment: String

    @Option(help: "The Prometheus server (default: spec.promotion.analysis.prometheus).")
    var prometheus: String?

    @Option(help: "Passing runs in a row needed (default: spec.promotion.analysis.checks).")
    var checks: Int?

    @Option(help: "Time between runs, e.g. 30s (default: spec.promotion.analysis.interval).")
    var interval: String?

    @Flag(help: "Act on the verdict: a pass commits the next step (or the finish), a failure the rollback.")
    var act = false

    @OptionGroup(title: "With --act") var publish: PublishFlags

    @OptionGroup var options: PromoteOptions

    @Option(name: .shortAndLong, help: "Output: text or json.")
    var output: TextOrJSON = .text

    func run() async throws {
        try await exitingTwoOnError {
            let promoter = try options.promoter(readOnly: !act)
            let (checkList, policy, state, _, _) = try promoter.checks(environment: environment, settingsFile: options.settings)
            guard state.inProgress else { throw CLIError(message: "\(environment): no canary in progress (\(state.summary)); nothing to analyze") }
            guard let url = prometheus ?? policy.analysis.prometheus else {
                throw CLIError(message: "which Prometheus? --prometheus URL (or spec.promotion.analysis.prometheus)")
            }
            var pause = policy.analysis.interval
            if let interval {
                guard let d = Duration(goStyle: interval) else { throw CLIError(message: "--interval '\(interval)' is not a duration (e.g. 30s, 5m)") }
                pause = d
            }
            let analyzer = PrometheusAnalyzer(url: url)
            let needed = max(checks ?? policy.analysis.checks, 1)
            var verdicts: [AnalysisVerdict] = []
            for run in 1...needed {
                if run > 1 { try? await Task.sleep(for: pause) }
                let verdict = await analyzer.evaluate(checkList)
                verdicts.append(verdict)
                if output == .text {
                    FileHandle.standardOutput.write(Data("\(environment) \(state.canaryTag) check \(run)/\(needed): \(verdict.summary)\n".utf8))
                }
                if verdict.outcome != .pass { break }
            }
            let last = verdicts.last ?? AnalysisVerdict(results: [])
            var outcome: PromotionOutcome?
            if act {
                outcome = try await promoter.act(on: last, state: state, environment: environment, settingsFile: options.settings, mode: publish.mode)
            }
            if output == .json {
                var json: ValueMap = ["environment": .string(environment), "tag": .string(state.canaryTag), "outcome": .string(last.outcome.rawValue), "runs": .list(verdicts.map(\.json))]
                if let outcome { json["action"] = outcome.json }
                FileHandle.standardOutput.write(Data((JSON.serializePretty(.map(json)) + "\n").utf8))
            } else if let outcome {
                printOutcome(outcome, pushedTo: options.push ? promoter.url : nil, output: .text)
            }
            exitWithoutTeardown(last.outcome == .pass ? 0 : last.outcome == .fail ? 1 : 3)
        }
    }
}
