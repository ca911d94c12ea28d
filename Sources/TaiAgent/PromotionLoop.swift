import Foundation
import Logging
import Metrics
import TaiCore
public import TaiGit
import TaiKube
public import TaiPromote
import TaiSource

/// How the agent drives canary promotions: where the analysis reads metrics and where its pull
/// requests go. Without it the agent only syncs what git says.
public struct PromotionSettings: Sendable {
    /// The Prometheus server of environments whose analysis names none.
    public var prometheus: String?
    /// The forge for pull requests; without one, steps are committed on the base branch directly
    /// (only where the environment allows merging automatically).
    public var forge: ForgeClient?
    public var author: Identity
    public var signingKey: String?

    public init(prometheus: String? = nil, forge: ForgeClient? = nil, author: Identity = Identity(name: "tai-gitops", email: "tai-gitops@localhost"), signingKey: String? = nil) {
        self.prometheus = prometheus
        self.forge = forge
        self.author = author
        self.signingKey = signingKey
    }
}

/// Where an environment's promotion stands in the agent (status page, `/status.json`).
public struct PromotionProgress: Sendable, Equatable {
    public var state: CanaryState
    /// Passing checks in a row at this step, and how many it needs.
    public var passes: Int
    public var needed: Int
    public var lastVerdict: String?
    /// What the agent did last (a pull request opened, a step merged, a rollback).
    public var lastAction: String?
    public var waiting: String?

    public var json: Value {
        var out: ValueMap = [
            "stableTag": .string(state.stableTag), "canaryTag": .string(state.canaryTag), "passes": .int(passes), "needed": .int(needed),
        ]
        if let w = state.canaryWeight { out["canaryWeight"] = .int(w) }
        if let lastVerdict { out["lastVerdict"] = .string(lastVerdict) }
        if let lastAction { out["lastAction"] = .string(lastAction) }
        if let waiting { out["waiting"] = .string(waiting) }
        return .map(out)
    }

    /// One line for the status page.
    public var text: String {
        var out = "\(state.summary); checks passing \(passes)/\(needed)"
        if let waiting { out += "; \(waiting)" }
        if let lastVerdict { out += "; last analysis \(lastVerdict)" }
        if let lastAction { out += "; last action: \(lastAction)" }
        return out
    }
}

extension Agent {
    /// One environment's analysis loop: every `analysis.interval`, while this replica leads and
    /// the cluster runs the revision git has, the canary step's checks run against Prometheus; a
    /// step that passed `checks` times in a row gets its next step's commit (pull request, merged
    /// where allowed), a failed check the rollback's. Each step is acted on once.
    func promotionLoop(_ settings: SyncSettings, policy: PromotionPolicy, promotion: PromotionSettings) async {
        let env = settings.name
        let meta: Logger.Metadata = ["environment": .string(env)]
        guard case .remote(let remote) = configuration.source else {
            logger.warning("promotion needs a git URL (--repo URL) to commit to; \(env) is synced but not promoted", metadata: meta)
            return
        }
        guard let prometheus = policy.analysis.prometheus ?? promotion.prometheus else {
            logger.warning("no Prometheus for \(env)'s promotion analysis (--prometheus or spec.promotion.analysis.prometheus)", metadata: meta)
            return
        }
        // Its own cache: the sync loop's fetches and these never share a repository at once.
        var promoter = Promoter(
            cache: SourceCache(root: remote.cache.root + "/promote"), url: remote.url, base: settings.revision, credentials: remote.credentials,
            author: promotion.author, signingKey: promotion.signingKey, forge: promotion.forge)
        promoter.policies[env] = (policy, settings.path)
        let analyzer = PrometheusAnalyzer(url: prometheus)
        let mode = PublishMode(openPullRequest: promotion.forge != nil, autoMerge: policy.autoMerge)
        var stepKey = ""
        var passes = 0
        var acted: Set<String> = []
        while !isStopping && !Task.isCancelled {
            try? await Task.sleep(for: policy.analysis.interval)
            guard !isStopping, await board.leading, let record = await board.record(env), record.result == .synced, let applied = record.appliedRevision else { continue }
            let read: (checks: [AnalysisPolicy.Check], policy: PromotionPolicy, state: CanaryState, namespace: String, revision: CommitID)
            do {
                // A fetch and a render: off the cooperative threads, which the sync loops share.
                let current = promoter
                read = try await withCheckedThrowingContinuation { continuation in
                    DispatchQueue.global().async { continuation.resume(with: Result { try current.checks(environment: env) }) }
                }
            } catch {
                logger.warning("promotion: \(error)", metadata: meta)
                continue
            }
            guard read.state.inProgress else {
                passes = 0
                await board.updatePromotion(env, nil)
                continue
            }
            let key = "\(read.state.canaryTag)@\(read.state.canaryWeight.map(String.init) ?? "-")"
            if key != stepKey {
                stepKey = key
                passes = 0
            }
            var progress = PromotionProgress(state: read.state, passes: passes, needed: policy.analysis.checks, lastVerdict: nil, lastAction: await board.promotion(env)?.lastAction)
            // Live: the cluster runs the revision git has, the canary ready and at git's weight.
            guard read.revision.hex == applied else {
                progress.waiting = "waiting for \(read.revision.hex.prefix(12)) to be applied"
                await board.updatePromotion(env, progress)
                continue
            }
            if let client = configuration.clients[env], let live = try? await LiveCanary.read(client: client, namespace: read.namespace, policy: policy) {
                let canaryReady = live.canary.map { $0.ready >= $0.replicas } ?? true
                let atWeight = read.state.canaryWeight == nil || live.weight(of: policy.canarySubset) == read.state.canaryWeight
                guard canaryReady && atWeight else {
                    progress.waiting = !canaryReady ? "waiting for \(policy.canaryDeployment) to be ready" : "waiting for the weights to be live"
                    await board.updatePromotion(env, progress)
                    continue
                }
            }
            guard !acted.contains(key) else { continue }
            let verdict = await analyzer.evaluate(read.checks)
            Counter(label: "tai_gitops_promotion_checks_total", dimensions: [("environment", env), ("outcome", verdict.outcome.rawValue)]).increment()
            Gauge(label: "tai_gitops_canary_weight", dimensions: [("environment", env)]).record(read.state.canaryWeight ?? 0)
            logger.info("promotion analysis of \(read.state.canaryTag) at \(key): \(verdict.summary)", metadata: meta)
            progress.lastVerdict = verdict.summary
            switch verdict.outcome {
            case .pass: passes += 1
            case .inconclusive: passes = 0
            case .fail: break
            }
            progress.passes = passes
            if verdict.outcome == .fail || (verdict.outcome == .pass && passes >= policy.analysis.checks) {
                do {
                    if let outcome = try await promoter.act(on: verdict, state: read.state, environment: env, mode: mode) {
                        acted.insert(key)
                        let where_ = outcome.pullRequest.map { "pull request #\($0.number)" + (outcome.merged ? " (merged)" : "") } ?? "\(outcome.branch) at \(outcome.commit?.hex.prefix(12) ?? "?")"
                        progress.lastAction = "\(outcome.change.title): \(where_)"
                        logger.notice("promotion: \(outcome.change.title) — \(where_)", metadata: meta)
                        // It merged the step itself: sync now rather than wait for a webhook.
                        if outcome.merged { fireTrigger(env, .promotion) }
                        Counter(label: "tai_gitops_promotions_total", dimensions: [("environment", env), ("step", outcome.change.kind == .rollback ? "rollback" : "step")]).increment()
                    }
                } catch {
                    progress.waiting = "\(error)"
                    logger.warning("promotion: \(error)", metadata: meta)
                }
            }
            await board.updatePromotion(env, progress)
        }
    }
}
