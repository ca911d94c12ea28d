import CCurl
import Foundation
import Synchronization

/// Runs transfers through one libcurl multi handle on one thread of its own: every request in
/// flight is driven by the same `curl_multi_poll` loop, so a hundred parallel requests cost one
/// thread and its wake-ups rather than a thread each, handing over to and back from it per request.
///
/// Connections live in the multi handle's cache and are reused by whichever transfer comes next.
/// The thread starts with the first transfer and ends when the owner calls ``shutdown()``.
///
/// `@unchecked Sendable`: the multi handle and `active` are touched only on the loop thread; what
/// other threads hand over goes through `inbox`, under its lock (`curl_multi_wakeup` is the one
/// libcurl call made from other threads, which libcurl allows).
final class CurlMulti: @unchecked Sendable {
    /// A transfer handed to the loop: a prepared connection and what to do with its outcome.
    struct Transfer {
        var connection: CurlConnection
        var done: @Sendable (Result<HTTPResponse, HTTPError>) -> Void
    }

    private struct Inbox {
        var transfers: [Transfer] = []
        var started = false
        /// The loop is asleep (or about to be) in `curl_multi_poll`: a submission must wake it.
        var sleeping = false
        var stopping = false
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    /// Transfers the multi handle is running, by easy handle (loop thread only).
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]

    /// - Parameter maxConnections: how many idle connections the multi handle keeps for reuse.
    init(maxConnections: Int) {
        // curl_multi_init only fails when memory is exhausted.
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        _ = tai_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(maxConnections, 1))
    }

    /// Hands a prepared transfer to the loop (starting it on first use).
    func submit(_ transfer: Transfer) {
        let (start, wake) = inbox.withLock { inbox -> (Bool, Bool) in
            inbox.transfers.append(transfer)
            let start = !inbox.started
            inbox.started = true
            let wake = inbox.sleeping
            if wake { inbox.sleeping = false }
            return (start, wake)
        }
        if start {
            let thread = Thread { self.run() }
            thread.name = "tai-gitops.http"
            thread.start()
        } else if wake {
            curl_multi_wakeup(multi)
        }
    }

    /// Ends the loop once the transfers in flight are done, and frees the multi handle.
    func shutdown() {
        let running = inbox.withLock { inbox -> Bool in
            inbox.stopping = true
            return inbox.started
        }
        if running { curl_multi_wakeup(multi) } else { curl_multi_cleanup(multi) }
    }

    private func run() {
        while true {
            let (incoming, stop) = inbox.withLock { inbox -> ([Transfer], Bool) in
                let taken = inbox.transfers
                inbox.transfers.removeAll(keepingCapacity: true)
                return (taken, inbox.stopping)
            }
            for transfer in incoming {
                let easy = transfer.connection.easyHandle
                let code = curl_multi_add_handle(multi, easy)
                guard code == CURLM_OK else {
                    transfer.done(transfer.connection.finish(CURLE_FAILED_INIT))
                    continue
                }
                active[easy] = transfer
            }
            if stop && active.isEmpty { break }

            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                    let transfer = active.removeValue(forKey: easy)
                else { continue }
                let result = message.pointee.data.result
                curl_multi_remove_handle(multi, easy)
                transfer.done(transfer.connection.finish(result))
            }

            // Sleep until a socket is ready, a timer is due, or a submission wakes us.
            let idle = inbox.withLock { inbox -> Bool in
                guard inbox.transfers.isEmpty && !(inbox.stopping && self.active.isEmpty) else { return false }
                inbox.sleeping = true
                return true
            }
            if idle {
                var ready: Int32 = 0
                curl_multi_poll(multi, nil, 0, 1000, &ready)
                inbox.withLock { $0.sleeping = false }
            }
        }
        curl_multi_cleanup(multi)
    }
}
