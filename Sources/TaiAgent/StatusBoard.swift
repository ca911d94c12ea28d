import Foundation

/// What the agent knows of each environment right now, shared by the sync loops, the HTTP
/// endpoints and the shutdown report.
public actor StatusBoard {
    public private(set) var records: [String: SyncRecord] = [:]
    /// The last errors per environment, newest last (at most ``maxErrors``).
    public private(set) var errors: [String: [String]] = [:]
    /// Where each environment's canary promotion stands (only while one is in progress).
    public private(set) var promotions: [String: PromotionProgress] = [:]
    public private(set) var leading: Bool
    public private(set) var electionSettled: Bool
    public let environments: [String]
    public let identity: String
    static let maxErrors = 5

    public init(environments: [String], identity: String, leading: Bool, electionSettled: Bool) {
        self.environments = environments
        self.identity = identity
        self.leading = leading
        self.electionSettled = electionSettled
        for name in environments { records[name] = SyncRecord(environment: name) }
    }

    func update(_ record: SyncRecord) {
        records[record.environment] = record
        guard let message = record.message else { return }
        // A failure is always noted; a warning (a fetch that fell back to the last good
        // snapshot) once for as long as it repeats.
        guard record.result == .failed || errors[record.environment]?.last?.hasSuffix(message) != true else { return }
        errors[record.environment, default: []].append("\(record.time.map(SyncRecord.timestamp) ?? "") \(message)")
        if errors[record.environment]!.count > Self.maxErrors { errors[record.environment]!.removeFirst() }
    }

    func setLeading(_ leading: Bool) {
        self.leading = leading
        electionSettled = true
    }

    /// Ready once every environment's first sync finished or failed cleanly (a standby replica:
    /// once it knows it is one).
    public var isReady: Bool {
        guard electionSettled else { return false }
        guard leading else { return true }
        return environments.allSatisfy { (records[$0]?.result ?? .pending) != .pending || records[$0]?.interrupted != nil }
    }

    public func record(_ environment: String) -> SyncRecord? { records[environment] }

    public func promotion(_ environment: String) -> PromotionProgress? { promotions[environment] }

    func updatePromotion(_ environment: String, _ progress: PromotionProgress?) { promotions[environment] = progress }
}
