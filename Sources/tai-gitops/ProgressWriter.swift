import Foundation
import Synchronization

/// Writes progress lines to standard output as they happen. On a terminal each line is written
/// at once; into a pipe or file, lines are gathered and written within 100 ms (and when `flush()`
/// is called), much as C's stdio buffers — a thousand objects applied in a tenth of a second then
/// cost a few writes, not a thousand. Lines always come out whole and in order.
final class ProgressWriter: Sendable {
    private struct Pending {
        var bytes: [UInt8] = []
        var lastFlush = ContinuousClock.now
    }

    private let immediate: Bool
    /// Held while writing too, so that no two flushes reorder lines.
    private let pending = Mutex(Pending())

    init(immediate: Bool = isatty(STDOUT_FILENO) != 0) { self.immediate = immediate }

    func write(_ line: String) {
        let scheduleFlush: Bool = pending.withLock { pending in
            guard !immediate else {
                Self.writeAll(Array(line.utf8))
                return false
            }
            let first = pending.bytes.isEmpty
            pending.bytes += line.utf8
            let now = ContinuousClock.now
            if now - pending.lastFlush >= .milliseconds(100) || pending.bytes.count >= 1 << 16 {
                Self.writeAll(pending.bytes)
                pending.bytes.removeAll(keepingCapacity: true)
                pending.lastFlush = now
                return false
            }
            return first
        }
        if scheduleFlush {
            // Nothing may follow for a while (a stage waiting for CRDs, health checks): the line
            // still goes out within 100 ms.
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) { self.flush() }
        }
    }

    func flush() {
        pending.withLock { pending in
            if !pending.bytes.isEmpty { Self.writeAll(pending.bytes) }
            pending.bytes.removeAll()
            pending.lastFlush = ContinuousClock.now
        }
    }

    private static func writeAll(_ bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes))
    }
}
