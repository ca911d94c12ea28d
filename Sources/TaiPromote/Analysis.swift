import Foundation
public import TaiCore
public import TaiHTTP

/// The outcome of one check at one time.
public struct CheckResult: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        case pass, fail
        /// No data, no answer or a query error: never a pass.
        case inconclusive
    }

    public var check: AnalysisPolicy.Check
    public var outcome: Outcome
    public var value: Double?
    /// Why, for a failed or inconclusive check.
    public var reason: String?
    public var time: Date

    public init(check: AnalysisPolicy.Check, outcome: Outcome, value: Double?, reason: String?, time: Date) {
        self.check = check
        self.outcome = outcome
        self.value = value
        self.reason = reason
        self.time = time
    }

    public var json: Value {
        var out: ValueMap = [
            "name": .string(check.name), "query": .string(check.query), "threshold": .string(check.thresholdText),
            "outcome": .string(outcome.rawValue), "time": .string(Self.timestamp(time)),
        ]
        if let value { out["value"] = value.isFinite ? .double(value) : .string(String(value)) }
        if let reason { out["reason"] = .string(reason) }
        return .map(out)
    }

    static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// `success rate = 0.95 (threshold >= 0.99) at 2026-12-04T17:00:00Z`.
    public var text: String {
        let v = value.map { String(format: "%.4g", $0) } ?? "no value"
        return "\(check.name) = \(v) (threshold \(check.thresholdText))" + (reason.map { ": \($0)" } ?? "") + " at \(Self.timestamp(time))"
    }
}

/// One analysis run: every check of a step at one time.
public struct AnalysisVerdict: Sendable, Equatable {
    public var results: [CheckResult]

    public init(results: [CheckResult]) { self.results = results }

    public var outcome: CheckResult.Outcome {
        if results.contains(where: { $0.outcome == .fail }) { return .fail }
        if results.isEmpty || results.contains(where: { $0.outcome == .inconclusive }) { return .inconclusive }
        return .pass
    }

    /// The first check that did not pass.
    public var firstProblem: CheckResult? { results.first { $0.outcome == .fail } ?? results.first { $0.outcome != .pass } }

    public var summary: String {
        switch outcome {
        case .pass: return "passed (" + results.map { "\($0.check.name) \($0.value.map { String(format: "%.4g", $0) } ?? "?")" }.joined(separator: ", ") + ")"
        case .fail: return "failed: " + (firstProblem?.text ?? "no checks")
        case .inconclusive: return "inconclusive: " + (firstProblem?.text ?? "no checks")
        }
    }

    public var json: Value { .map(["outcome": .string(outcome.rawValue), "checks": .list(results.map(\.json))]) }
}

/// Runs checks against the Prometheus HTTP API (`/api/v1/query`).
public struct PrometheusAnalyzer: Sendable {
    public var url: String
    let http: HTTPClient

    public init(url: String, http: HTTPClient = HTTPClient()) {
        self.url = url.trimmingSuffix("/")
        self.http = http
    }

    /// Evaluates each check now. A query that returns no series, several, a NaN, an HTTP error or no
    /// answer at all is inconclusive — never a pass.
    public func evaluate(_ checks: [AnalysisPolicy.Check], at time: Date = Date()) async -> AnalysisVerdict {
        var results: [CheckResult] = []
        for check in checks {
            results.append(await evaluate(check, at: time))
        }
        return AnalysisVerdict(results: results)
    }

    func evaluate(_ check: AnalysisPolicy.Check, at time: Date) async -> CheckResult {
        func inconclusive(_ reason: String, value: Double? = nil) -> CheckResult {
            CheckResult(check: check, outcome: .inconclusive, value: value, reason: reason, time: time)
        }
        let body = "query=\(check.query.urlComponentEncoded)&time=\(String(format: "%.3f", time.timeIntervalSince1970))"
        let response: HTTPResponse
        do {
            response = try await http.execute(HTTPRequest(
                method: .post, url: url + "/api/v1/query", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array(body.utf8),
                timeout: .seconds(10)))
        } catch {
            return inconclusive("Prometheus at \(url) did not answer: \(error)")
        }
        guard let json = try? JSON.parse(response.body) else {
            return inconclusive("Prometheus answered HTTP \(response.status) without JSON")
        }
        guard response.status == 200, json["status"] == "success" else {
            return inconclusive("query error (HTTP \(response.status)): \(json["error"]?.stringValue ?? response.text.prefix(200).description)")
        }
        let result = json[path: ["data", "result"]]
        let sample: Value?
        switch json[path: ["data", "resultType"]]?.stringValue {
        case "scalar"?: sample = result
        case "vector"?:
            let series = result?.listValue ?? []
            guard !series.isEmpty else { return inconclusive("no data (the query returned no series)") }
            guard series.count == 1 else { return inconclusive("the query returned \(series.count) series; a check needs one value (aggregate it)") }
            sample = series[0]["value"]
        default:
            return inconclusive("the query returned a \(json[path: ["data", "resultType"]]?.stringValue ?? "?"), not one value")
        }
        guard let text = sample?.listValue?.last?.stringValue, let value = Double(text) else {
            return inconclusive("no value in the answer")
        }
        guard value.isFinite else { return inconclusive("the value is \(text) (no traffic in the window?)", value: value) }
        if let min = check.min, value < min {
            return CheckResult(check: check, outcome: .fail, value: value, reason: "below \(AnalysisPolicy.Check.number(min))", time: time)
        }
        if let max = check.max, value > max {
            return CheckResult(check: check, outcome: .fail, value: value, reason: "above \(AnalysisPolicy.Check.number(max))", time: time)
        }
        return CheckResult(check: check, outcome: .pass, value: value, reason: nil, time: time)
    }
}
