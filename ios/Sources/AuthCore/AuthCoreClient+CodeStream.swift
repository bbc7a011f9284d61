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
        return pollingStream(pollNanoseconds: pollNanoseconds) { _ in
            try authenticator.codes(query: query)
        }
    }

    /// The polling loop of `codeStream` and `CodeList.updates()`: every `pollNanoseconds`, one
    /// hop to the client's queue that reads the time source (an FFI call for the system clock)
    /// and, only when its second or the client's change count moved since the last hop, runs
    /// `tick` there. What `tick` returns is yielded unless it is nil or equals the element yielded
    /// before. `tick`'s argument is true until something was yielded. `version` (a watch's
    /// last word, read each poll) moving counts as a change too. The stream ends when the
    /// iterating task is cancelled, and with `tick`'s error when it throws; `onEnd` runs when
    /// it ends.
    func pollingStream<Element: Equatable>(
        pollNanoseconds: UInt64,
        version: @escaping @Sendable () -> UInt64? = { nil },
        onEnd: @escaping @Sendable () -> Void = {},
        tick: @escaping @Sendable (_ nothingYielded: Bool) throws -> Element?
    ) -> AsyncThrowingStream<Element, Error> {
        let timeSource = self.timeSource
        let changes = self.changes
        let queue = self.queue
        return AsyncThrowingStream { continuation in
            let task = Task {
                var last: Element?
                var seenSecond: Int64?
                var seenChange: UInt64?
                var seenVersion: UInt64?
                do {
                    while !Task.isCancelled {
                        let change = changes.current
                        let told = version()
                        let (priorSecond, priorChange, priorTold) = (seenSecond, seenChange, seenVersion)
                        let nothingYielded = last == nil
                        let (second, value) = try await Self.onQueue(queue) { () throws -> (Int64, Element?) in
                            let second = timeSource.nowUnixSeconds()
                            if second == priorSecond && change == priorChange && told == priorTold { return (second, nil) }
                            return (second, try tick(nothingYielded))
                        }
                        seenSecond = second
                        seenChange = change
                        seenVersion = told
                        if let value, value != last {
                            continuation.yield(value)
                            last = value
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
            continuation.onTermination = { _ in
                task.cancel()
                onEnd()
            }
        }
    }
}
