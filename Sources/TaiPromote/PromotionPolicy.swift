import Foundation
public import TaiCore

/// Why a promotion cannot go ahead: the file and field when it comes from the repository.
public typealias PromoteError = SettingsError

/// How an environment promotes its canary: `spec.promotion` of its `sync.yaml`.
///
/// ```yaml
/// promotion:
///   image: tai-api              # the stable image's name in `images`
///   canaryImage: tai-api-canary # the canary Deployment's image name in `images`
///   stableDeployment: tai-api   # default: named as `image`
///   canaryDeployment: tai-api-canary # default: named as `canaryImage`
///   steps: [10, 50, 100]        # canary weights, in percent
///   autoMerge: false            # the agent (and --auto-merge) may merge its own pull requests
///   analysis:
///     interval: 5m
///     checks: 3                 # passing checks in a row a step needs
///     window: 1m                # the rate() window of the default queries
///     maxErrorRate: 0.01
///     maxLatencyP99Milliseconds: 500
///     queries:                  # more checks, each a PromQL query and a bound
///     - name: saturation
///       query: max(container_memory_working_set_bytes{pod=~"tai-api-canary.*"})
///       max: 1.5e9
/// ```
public struct PromotionPolicy: Sendable, Equatable {
    public var image: String
    public var canaryImage: String
    /// The Deployments running the stable and the canary version (default: named as the images).
    public var stableDeployment: String
    public var canaryDeployment: String
    public var steps: [Int]
    public var autoMerge: Bool
    /// The VirtualService whose weights move, and its stable and canary subsets.
    public var virtualService: String
    public var destinationRule: String
    public var stableSubset: String
    public var canarySubset: String
    /// The environment's file holding the weights (a JSON 6902 patch of the VirtualService).
    public var weightsFile: String
    public var analysis: AnalysisPolicy

    public init(
        image: String, canaryImage: String, steps: [Int] = [10, 50, 100], autoMerge: Bool = false, virtualService: String = "tai-vs",
        destinationRule: String = "tai-dr", stableSubset: String = "stable", canarySubset: String = "canary",
        weightsFile: String = "canary-weights.yaml", analysis: AnalysisPolicy = AnalysisPolicy()
    ) {
        self.image = image
        self.canaryImage = canaryImage
        stableDeployment = image
        canaryDeployment = canaryImage
        self.steps = steps
        self.autoMerge = autoMerge
        self.virtualService = virtualService
        self.destinationRule = destinationRule
        self.stableSubset = stableSubset
        self.canarySubset = canarySubset
        self.weightsFile = weightsFile
        self.analysis = analysis
    }

    /// Reads `spec.promotion` of a sync settings document; nil when it has none.
    public static func parse(_ settings: Value, file: String) throws(PromoteError) -> PromotionPolicy? {
        guard let spec = settings[path: ["spec", "promotion"]], spec != .null else { return nil }
        let reader = FieldReader(root: spec, file: file, prefix: "spec.promotion")
        guard let image = try reader.string("image"), !image.isEmpty else {
            throw PromoteError(file: file, field: "spec.promotion.image", message: "the stable image's name in `images` is required")
        }
        var policy = PromotionPolicy(image: image, canaryImage: try reader.string("canaryImage") ?? image + "-canary")
        if let steps = try reader.list("steps") {
            var weights: [Int] = []
            for (i, step) in steps.enumerated() {
                guard let w = step.intValue, (1...100).contains(w) else {
                    throw PromoteError(file: file, field: "spec.promotion.steps[\(i)]", message: "a step is a canary weight from 1 to 100, found \(step)")
                }
                guard weights.last.map({ w > $0 }) ?? true else {
                    throw PromoteError(file: file, field: "spec.promotion.steps[\(i)]", message: "steps must rise (\(weights.last ?? 0) then \(w))")
                }
                weights.append(w)
            }
            guard !weights.isEmpty else { throw PromoteError(file: file, field: "spec.promotion.steps", message: "at least one step is needed") }
            policy.steps = weights
        }
        policy.stableDeployment = try reader.string("stableDeployment") ?? policy.stableDeployment
        policy.canaryDeployment = try reader.string("canaryDeployment") ?? policy.canaryDeployment
        policy.autoMerge = try reader.bool("autoMerge") ?? false
        policy.virtualService = try reader.string("virtualService") ?? policy.virtualService
        policy.destinationRule = try reader.string("destinationRule") ?? policy.destinationRule
        policy.stableSubset = try reader.string("stableSubset") ?? policy.stableSubset
        policy.canarySubset = try reader.string("canarySubset") ?? policy.canarySubset
        policy.weightsFile = try reader.string("weightsFile") ?? policy.weightsFile
        if let analysis = spec["analysis"], analysis != .null {
            policy.analysis = try AnalysisPolicy.parse(analysis, file: file)
        }
        return policy
    }
}

/// The metric checks that gate each step: `spec.promotion.analysis`.
public struct AnalysisPolicy: Sendable, Equatable {
    /// One check: a PromQL query whose single value must stay within its bounds.
    public struct Check: Sendable, Equatable {
        public var name: String
        public var query: String
        public var min: Double?
        public var max: Double?

        public init(name: String, query: String, min: Double? = nil, max: Double? = nil) {
            self.name = name
            self.query = query
            self.min = min
            self.max = max
        }

        /// The bound as people read it: `>= 0.99`, `<= 500`.
        public var thresholdText: String {
            [min.map { ">= \(Self.number($0))" }, max.map { "<= \(Self.number($0))" }].compactMap { $0 }.joined(separator: " and ")
        }

        static func number(_ d: Double) -> String {
            d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        }
    }

    public var interval: Duration
    public var checks: Int
    /// The `rate()` window of the default queries (PromQL duration).
    public var window: String
    public var maxErrorRate: Double
    public var maxLatencyP99Milliseconds: Double
    public var queries: [Check]
    /// The Prometheus server (else the agent's or command's `--prometheus`).
    public var prometheus: String?

    public init(
        interval: Duration = .seconds(300), checks: Int = 3, window: String = "1m", maxErrorRate: Double = 0.01,
        maxLatencyP99Milliseconds: Double = 500, queries: [Check] = [], prometheus: String? = nil
    ) {
        self.interval = interval
        self.checks = checks
        self.window = window
        self.maxErrorRate = maxErrorRate
        self.maxLatencyP99Milliseconds = maxLatencyP99Milliseconds
        self.queries = queries
        self.prometheus = prometheus
    }

    static func parse(_ value: Value, file: String) throws(PromoteError) -> AnalysisPolicy {
        let reader = FieldReader(root: value, file: file, prefix: "spec.promotion.analysis")
        var policy = AnalysisPolicy()
        if let text = try reader.string("interval") {
            guard let d = Duration(goStyle: text), d > .zero else {
                throw PromoteError(file: file, field: "spec.promotion.analysis.interval", message: "'\(text)' is not a duration (e.g. 30s, 5m)")
            }
            policy.interval = d
        }
        if let checks = try reader.int("checks") {
            guard checks >= 1 else { throw PromoteError(file: file, field: "spec.promotion.analysis.checks", message: "at least 1 passing check is needed") }
            policy.checks = checks
        }
        if let window = try reader.string("window") {
            guard Duration(goStyle: window) != nil else {
                throw PromoteError(file: file, field: "spec.promotion.analysis.window", message: "'\(window)' is not a PromQL duration (e.g. 30s, 1m)")
            }
            policy.window = window
        }
        policy.maxErrorRate = try reader.number("maxErrorRate") ?? policy.maxErrorRate
        guard (0...1).contains(policy.maxErrorRate) else {
            throw PromoteError(file: file, field: "spec.promotion.analysis.maxErrorRate", message: "a fraction from 0 to 1, found \(policy.maxErrorRate)")
        }
        policy.maxLatencyP99Milliseconds = try reader.number("maxLatencyP99Milliseconds") ?? policy.maxLatencyP99Milliseconds
        policy.prometheus = try reader.string("prometheus")
        for (i, item) in (try reader.list("queries") ?? []).enumerated() {
            let r = FieldReader(root: item, file: file, prefix: "spec.promotion.analysis.queries[\(i)]")
            guard let query = try r.string("query"), !query.isEmpty else {
                throw PromoteError(file: file, field: "spec.promotion.analysis.queries[\(i)].query", message: "a PromQL query is required")
            }
            let check = Check(name: try r.string("name") ?? "query \(i + 1)", query: query, min: try r.number("min"), max: try r.number("max"))
            guard check.min != nil || check.max != nil else {
                throw PromoteError(file: file, field: "spec.promotion.analysis.queries[\(i)]", message: "a check needs a bound: min, max or both")
            }
            policy.queries.append(check)
        }
        return policy
    }

    /// The checks of a step for the canary Deployment `workload` in `namespace`: success rate and
    /// p99 latency of its Istio metrics, then the configured queries.
    public func checks(workload: String, namespace: String) -> [Check] {
        let selector = "destination_workload=\"\(workload)\",destination_workload_namespace=\"\(namespace)\",reporter=\"destination\""
        let success = Check(
            name: "success rate",
            query: "sum(rate(istio_requests_total{\(selector),response_code!~\"5..\"}[\(window)])) / sum(rate(istio_requests_total{\(selector)}[\(window)]))",
            min: 1 - maxErrorRate)
        let latency = Check(
            name: "p99 latency (ms)",
            query: "histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{\(selector)}[\(window)])) by (le))",
            max: maxLatencyP99Milliseconds)
        return [success, latency] + queries
    }
}

/// Typed reads of a configuration map whose errors name the file and the field.
struct FieldReader {
    var root: Value
    var file: String
    var prefix: String

    private func error(_ key: String, _ expected: String, _ found: Value) -> PromoteError {
        PromoteError(file: file, field: prefix + "." + key, message: "expected \(expected), found a \(found.typeName)")
    }

    func string(_ key: String) throws(PromoteError) -> String? {
        switch root[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case let other?: throw error(key, "a string", other)
        }
    }

    func bool(_ key: String) throws(PromoteError) -> Bool? {
        switch root[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case let other?: throw error(key, "true or false", other)
        }
    }

    func int(_ key: String) throws(PromoteError) -> Int? {
        switch root[key] {
        case nil, .null?: return nil
        case let v?:
            guard let i = v.intValue else { throw error(key, "an integer", v) }
            return i
        }
    }

    func number(_ key: String) throws(PromoteError) -> Double? {
        switch root[key] {
        case nil, .null?: return nil
        case .int(let i)?: return Double(i)
        case .double(let d)?: return d
        case let other?: throw error(key, "a number", other)
        }
    }

    func list(_ key: String) throws(PromoteError) -> [Value]? {
        switch root[key] {
        case nil, .null?: return nil
        case .list(let l)?: return l
        case let other?: throw error(key, "a list", other)
        }
    }
}
