import Foundation
import Logging
import Synchronization
import TaiKube

/// Watches the objects of an environment's inventory (one watch per kind, by the membership
/// label) and calls `onChange` once things settle after a change or deletion, so a manual
/// `kubectl edit` is seen within a second instead of at the next interval. Objects appearing
/// (ADDED) are not changes: every watch starts by listing what exists as ADDED.
final class Watcher: Sendable {
    let kinds: [String]
    private let tasks: Mutex<[Task<Void, Never>]>
    private let debouncer: Debouncer

    /// Calls its action once per quiet period, however many changes arrive in it.
    final class Debouncer: Sendable {
        let delay: Duration
        let action: @Sendable () -> Void
        private let scheduled = Atomic<Bool>(false)
        private let stopped = Atomic<Bool>(false)

        init(delay: Duration, action: @escaping @Sendable () -> Void) {
            self.delay = delay
            self.action = action
        }

        func changed() {
            guard scheduled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
            Task {
                try? await Task.sleep(for: delay)
                scheduled.store(false, ordering: .releasing)
                if !stopped.load(ordering: .acquiring) { action() }
            }
        }

        func stop() { stopped.store(true, ordering: .releasing) }
    }

    init(client: KubeClient, selector: String, kinds: [String], debounce: Duration, logger: Logger, onChange: @escaping @Sendable () -> Void) {
        self.kinds = kinds
        tasks = Mutex([])
        let debouncer = Debouncer(delay: debounce, action: onChange)
        self.debouncer = debouncer
        let started = kinds.map { key in
            Task {
                let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 3 else { return }
                var failures = 0
                while !Task.isCancelled {
                    do {
                        let resource = try await client.resource(apiVersion: parts[0], kind: parts[1])
                        // In the objects' own namespace: a namespaced agent may not watch the whole cluster.
                        let namespace = resource.namespaced ? (parts[2].isEmpty ? client.config.namespace : parts[2]) : nil
                        for try await event in client.watch(resource, namespace: namespace, labelSelector: selector) {
                            failures = 0
                            if event.type == "MODIFIED" || event.type == "DELETED" { debouncer.changed() }
                        }
                    } catch {
                        failures += 1
                        if failures == 3 { logger.warning("watching \(parts[1]) (\(parts[0])) keeps failing: \(error)") }
                    }
                    try? await Task.sleep(for: .milliseconds(min(200 * (1 << min(failures, 5)), 5000)))
                }
            }
        }
        tasks.withLock { $0 = started }
    }

    func stop() {
        tasks.withLock { tasks in
            for task in tasks { task.cancel() }
            tasks.removeAll()
        }
        debouncer.stop()
    }
}
