import Foundation
public import Logging
import Synchronization
import TaiCore

/// A swift-log handler writing one JSON object per line to standard error — what log
/// collectors in a cluster read: `{"time":…,"level":…,"message":…,"environment":…,…}`.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    private static let lock = Mutex(())

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var entry: ValueMap = [
            "time": .string(SyncRecord.timestamp(Date())), "level": .string(event.level.rawValue), "logger": .string(label),
            "message": .string("\(event.message)"),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { entry[key] = Self.value(value) }
        let line = JSON.serialize(.map(entry)) + "\n"
        Self.lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }

    private static func value(_ metadata: Logger.MetadataValue) -> Value {
        switch metadata {
        case .string(let s): .string(s)
        case .stringConvertible(let c): .string(c.description)
        case .array(let items): .list(items.map(value))
        case .dictionary(let map): .map(ValueMap(uniqueKeysWithValues: map.sorted { $0.key < $1.key }.map { ($0.key, value($0.value)) }))
        }
    }
}
