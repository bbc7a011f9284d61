import Foundation

extension AuthCoreClient {
    /// The codes list for a screen that shows it, by the time source given at open (not the
    /// wall clock): yielded at once, then each time it changes, never the same list twice in a
    /// row.
    ///
    /// "Changed" is what a countdown UI draws: a code or next code (a rollover), the accounts
    /// (added, removed, renamed, reordered: through this client within one poll, through another
    /// process at the next second), a clock offset, or `validFor`, the whole seconds left. So a
    /// list with time-based accounts is yielded once per second of the time source, and not at
    /// all while it stands still (a fake clock in a test). A UI that animates the countdown more
    /// smoothly interpolates between elements.
    ///
    /// Every `pollNanoseconds` the stream asks, on the client's queue, whether the time
    /// source's second or this client's change count moved, and reads the vault only if so.
    /// Iterate it while the list is on screen; cancelling the task ends it.
    public func codeStream(matching query: String? = nil, pollNanoseconds: UInt64 = 100_000_000)
        -> AsyncThrowingStream<[AccountCode], Error>
    {
        let authenticator = self.authenticator
        let timeSource = self.timeSource
        let changes = self.changes
        let queue = self.queue
        return AsyncThrowingStream { continuation in
            let task = Task {
                var last: [AccountCode]?
                var seenSecond: Int64?
                var seenChange: UInt64?
                do {
                    while !Task.isCancelled {
                        let change = changes.current
                        let (priorSecond, priorChange) = (seenSecond, seenChange)
                        // One hop to the queue: the clock read (an FFI call for the system clock)
                        // and, only if something moved, the codes.
                        let (second, codes) = try await Self.onQueue(queue) { () throws -> (Int64, [AccountCode]?) in
                            let second = timeSource.nowUnixSeconds()
                            if second == priorSecond && change == priorChange { return (second, nil) }
                            return (second, try authenticator.codes(query: query))
                        }
                        seenSecond = second
                        seenChange = change
                        if let codes, codes != last {
                            continuation.yield(codes)
                            last = codes
                        }
                        try await Task.sleep(nanoseconds: pollNanoseconds)
                    }
                    continuation.finish()
                } catch is CancellationError {
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
