import Foundation

/// One row of the code list: the account (`id`, names, `otpType`, `period`, `digits`, the clock
/// correction) and what moves each second (`code`, `nextCode`, `validFor`).
public struct CodeRow: Equatable, Identifiable, Sendable {
    /// The names, one object shared by every copy of the row: a refresh while the UI holds the
    /// last rows copies them to set the countdowns, and a row copies with one reference counted
    /// instead of three strings (docs/benchmarks.md, "The per-second refresh").
    let account: CodeRowAccount
    public var id: String { account.id }
    public var issuer: String { account.issuer }
    public var label: String { account.label }
    public let otpType: OtpType
    /// Seconds per code.
    public let period: UInt32
    /// Characters per code.
    public let digits: UInt8
    public let code: String
    public let nextCode: String
    /// Whole seconds `code` stays valid (1...period), by the time source given at open.
    public internal(set) var validFor: UInt32
    /// Seconds added to the device clock for this row's codes (see `AccountCode.clockOffset`).
    public let clockOffset: Int64
    public let clockFromServer: Bool

    init(
        id: String, issuer: String, label: String, otpType: OtpType, period: UInt32, digits: UInt8,
        code: String, nextCode: String, validFor: UInt32, clockOffset: Int64, clockFromServer: Bool
    ) {
        self.init(
            account: CodeRowAccount(id: id, issuer: issuer, label: label), otpType: otpType,
            period: period, digits: digits, code: code, nextCode: nextCode, validFor: validFor,
            clockOffset: clockOffset, clockFromServer: clockFromServer)
    }

    init(
        account: CodeRowAccount, otpType: OtpType, period: UInt32, digits: UInt8, code: String,
        nextCode: String, validFor: UInt32, clockOffset: Int64, clockFromServer: Bool
    ) {
        self.account = account
        self.otpType = otpType
        self.period = period
        self.digits = digits
        self.code = code
        self.nextCode = nextCode
        self.validFor = validFor
        self.clockOffset = clockOffset
        self.clockFromServer = clockFromServer
    }
}

/// A row's account names (see `CodeRow.account`); equal when the names are.
final class CodeRowAccount: Equatable, Sendable {
    let id: String
    let issuer: String
    let label: String

    init(id: String, issuer: String, label: String) {
        (self.id, self.issuer, self.label) = (id, issuer, label)
    }

    static func == (a: CodeRowAccount, b: CodeRowAccount) -> Bool {
        a === b || (a.id == b.id && a.issuer == b.issuer && a.label == b.label)
    }
}

/// The code list of a screen, kept current at the cost of a second's change only: the rows'
/// names are fetched once and again only when the core says the list changed (an account added,
/// renamed, moved or removed, an import, a restore, a container sync, a push enrollment, a clock
/// offset; through this app or another process). Each second in between asks the core only for
/// that version (a number) and counts the countdowns down from the time source's reading; the
/// codes cross, packed, only when a row's time step rolled over. The same accounts as
/// `AuthCoreClient.codes()`, in the same order.
///
///     let list = core.codeList()
///     for try await rows in list.updates() { render(rows) }   // while the list is on screen
///
/// Every refresh runs on the client's queue, like every other call of the core.
public final class CodeList: @unchecked Sendable {
    private let client: AuthCoreClient
    // Guarded by `lock` (refreshes run on the client's serial queue; `rows` may be read anywhere).
    private let lock = NSLock()
    private var version: UInt64?
    private var stable: [CodeListRow] = []
    private var current: [CodeRow] = []
    /// The codes buffer `current` was made from: while the next one is equal, only countdowns move.
    private var decodedCodes: Data?
    /// Per row, as plain numbers so that counting down copies no row: the time step when its
    /// codes were fetched (until it moves they are current), its correction, its period and
    /// the countdown `current` shows.
    private var clock = Countdown()
    /// The version the open watches were last told (nil: no watch open, or not told yet), how
    /// many are open, and the client's change count when `version` was last read from the core.
    private var watched: UInt64?
    private var watches = 0
    private var changesAtRead: UInt64?

    init(client: AuthCoreClient) {
        self.client = client
    }

    /// The rows as of the last refresh; empty until the first.
    public var rows: [CodeRow] {
        lock.lock(); defer { lock.unlock() }
        return current
    }

    /// Brings `rows` up to date, on the client's queue. Returns whether `rows` changed.
    ///
    /// It reads the time source once and asks the core only for the list's version (one call
    /// returning a number), and not even that while a `watch()` is open and no change went
    /// through the client since it last asked; the countdowns are that reading plus each row's correction, modulo
    /// its period. Only when a row's time step moved since its codes were made (a rollover), or
    /// the version did, does it fetch the codes (one call, both buffers), and the names only in
    /// the second case.
    @discardableResult
    public func refresh() async throws -> Bool {
        try await AuthCoreClient.onQueue(client.queue) { [self] in try refreshHere() }
    }

    /// `refresh()` on the calling thread (the client's queue, or a test).
    func refreshHere() throws -> Bool {
        let authenticator = client.authenticator
        let now = client.timeSource.nowUnixSeconds()
        let change = client.changes.current
        lock.lock(); defer { lock.unlock() }
        // A watch tells of every move, another process's too (versions only grow); of a change
        // through the client it may not have told yet, so after one the version is read.
        let listVersion: UInt64
        if let told = watched, let held = version, change == changesAtRead {
            listVersion = max(told, held)
        } else {
            listVersion = try authenticator.listVersion()
            changesAtRead = change
        }
        if listVersion == version, current.count == stable.count, clock.count == stable.count {
            switch clock.countDown(now, &current) {
            case .moved: return true
            case .same: return false
            case .rolledOver: break
            }
        }
        var ticks = try authenticator.codeTicksOn(deviceUnixSeconds: now)
        var fetched = false
        var tries = 0
        // A change between two calls shows as another version: fetch until they agree.
        while ticks.version != version {
            tries += 1
            if tries > 4 { return false }  // changing faster than it can be read: next time
            let list = try authenticator.codeList()
            version = list.version
            stable = list.rows
            fetched = true
            ticks = try authenticator.codeTicksOn(deviceUnixSeconds: now)
        }
        let previous = fetched ? [] : current
        let sameCodes = previous.count == stable.count && ticks.codes == decodedCodes
        let next = try Self.decode(
            validFor: [UInt8](ticks.validFor), codes: sameCodes ? nil : [UInt8](ticks.codes), stable,
            previous: previous)
        decodedCodes = ticks.codes
        clock = Countdown(now, stable, shown: next ?? current)
        if let next {
            current = next
            return true
        }
        // Nothing decoded differs from `previous`: after a fetch that means an empty list.
        if fetched, !current.isEmpty {
            current = []
            return true
        }
        return false
    }

    /// Has the core watch the list's version (every `intervalMilliseconds`, on a thread of its
    /// own) until the returned watch is cancelled or released, so that a refresh in a second in
    /// which nothing changed makes no FFI call; `updates()` opens one itself.
    public func watch(intervalMilliseconds: UInt32 = 1000) throws -> CodeListWatch {
        let observer = WatchObserver(list: self)
        lock.lock()
        watches += 1
        lock.unlock()
        do {
            let handle = try client.authenticator.watchList(observer: observer, intervalMs: intervalMilliseconds)
            return CodeListWatch(handle: handle, observer: observer)
        } catch {
            observer.close()
            throw error
        }
    }

    /// What a watch's observer was told, unless it was closed (under `lock`, as `close` is).
    fileprivate func told(_ version: UInt64, open: () -> Bool) {
        lock.lock(); defer { lock.unlock() }
        guard open() else { return }
        if watched.map({ version > $0 }) ?? true { watched = version }
    }

    /// A watch closed: with none left open, refreshes ask for the version again.
    fileprivate func closed(_ body: () -> Bool) {
        lock.lock(); defer { lock.unlock() }
        if body() {
            watches -= 1
            if watches == 0 { watched = nil }
        }
    }

    /// The rows, yielded at once and then each time they changed: the stream refreshes on the
    /// client's queue whenever the time source's second moves (read every `pollNanoseconds`)
    /// or a change went through the client. Cancelling the task ends it.
    ///
    /// While it runs, a watch (`watch()`, every `watchMilliseconds`) tells the list of another
    /// process's changes, which show at the next poll even when the second did not move.
    public func updates(pollNanoseconds: UInt64 = 100_000_000, watchMilliseconds: UInt32 = 1000)
        -> AsyncThrowingStream<[CodeRow], Error>
    {
        let watching = WatchSlot()
        return client.pollingStream(pollNanoseconds: pollNanoseconds, version: { [self] in currentWatched() }, onEnd: { watching.cancel() }) { [self] nothingYielded in
            if nothingYielded, watching.isEmpty { watching.set(try watch(intervalMilliseconds: watchMilliseconds)) }
            let moved = try refreshHere()
            return moved || nothingYielded ? self.rows : nil
        }
    }

    private func currentWatched() -> UInt64? {
        lock.lock(); defer { lock.unlock() }
        return watched
    }

    /// The rows the buffers describe (layout: bindings/src/code_list.rs), reusing each row of
    /// `previous` (made from the same `stable` rows) that did not move; nil when none did.
    /// `codes` is nil when it equals the buffer `previous` was made from: the codes are
    /// `previous`'s and only the countdowns are read.
    static func decode(validFor: [UInt8], codes: [UInt8]?, _ stable: [CodeListRow], previous: [CodeRow]) throws -> [CodeRow]? {
        guard validFor.count == 4 * stable.count else {
            throw AuthCoreError.Internal(text: "code ticks: \(validFor.count) countdown bytes for \(stable.count) rows")
        }
        func seconds(_ i: Int) -> UInt32 {
            let b = 4 * i
            return UInt32(validFor[b]) | UInt32(validFor[b + 1]) << 8 | UInt32(validFor[b + 2]) << 16
                | UInt32(validFor[b + 3]) << 24
        }
        guard let codes else {
            // Only the countdowns moved: the rows in place.
            guard previous.count == stable.count else {
                throw AuthCoreError.Internal(text: "code ticks: no codes for \(stable.count) new rows")
            }
            var rows = previous
            var changed = false
            for i in 0..<rows.count {
                let s = seconds(i)
                if rows[i].validFor != s {
                    rows[i].validFor = s
                    changed = true
                }
            }
            return changed ? rows : nil
        }
        // Once per period: every code string made anew (Swift compares strings by value, so
        // keeping an equal one saves nothing a UI sees).
        var at = 0
        var strings: [String] = []
        strings.reserveCapacity(2 * stable.count)
        for _ in 0..<(2 * stable.count) {
            guard at < codes.count else {
                throw AuthCoreError.Internal(text: "code ticks end after \(at) bytes")
            }
            let length = Int(codes[at])
            at += 1
            guard length <= codes.count - at else {
                throw AuthCoreError.Internal(text: "code ticks end inside a code")
            }
            strings.append(String(decoding: codes[at..<(at + length)], as: UTF8.self))
            at += length
        }
        var changed = previous.count != stable.count
        var rows: [CodeRow] = []
        rows.reserveCapacity(stable.count)
        for i in 0..<stable.count {
            let validFor = seconds(i)
            let (current, next) = (strings[2 * i], strings[2 * i + 1])
            if i < previous.count, previous[i].code == current, previous[i].nextCode == next,
                previous[i].validFor == validFor
            {
                rows.append(previous[i])
                continue
            }
            changed = true
            let row = stable[i]
            // `previous` was made from the same `stable` rows: its names object is this row's.
            let account = i < previous.count
                ? previous[i].account : CodeRowAccount(id: row.id, issuer: row.issuer, label: row.label)
            rows.append(
                CodeRow(
                    account: account, otpType: row.otpType, period: row.period, digits: row.digits,
                    code: current, nextCode: next, validFor: validFor, clockOffset: row.clockOffset,
                    clockFromServer: row.clockFromServer))
        }
        guard at == codes.count else {
            throw AuthCoreError.Internal(text: "code ticks: \(codes.count - at) bytes past the last row")
        }
        return changed ? rows : nil
    }
}

/// The countdowns of a code list, kept as plain numbers per row, and the window of device
/// seconds in which every row's codes stay those fetched.
struct Countdown {
    enum Counted { case same, moved, rolledOver }

    private struct Entry {
        let offset: Int64
        let period: UInt64
        var shown: UInt32
    }

    private var entries: [Entry] = []
    /// The codes were fetched at `from`; the first row's step moves at `until`.
    private var from: Int64 = 0
    private var until: Int64 = .min
    private var last: Int64 = .min

    var count: Int { entries.count }

    init() {}

    /// The window at `now` of `stable`'s rows, whose rows show `rows`' countdowns.
    init(_ now: Int64, _ stable: [CodeListRow], shown rows: [CodeRow]) {
        var until = Int64.max
        for i in 0..<stable.count {
            let row = stable[i]
            let period = UInt64(row.period)
            entries.append(Entry(offset: row.clockOffset, period: period, shown: i < rows.count ? rows[i].validFor : 0))
            // The device second at which this row's corrected time reaches its next step.
            let left = period - Self.corrected(now, row.clockOffset) % period
            let (end, overflow) = now.addingReportingOverflow(Int64(clamping: left))
            until = min(until, overflow ? .max : end)
        }
        (from, self.until, last) = (now, until, now)
    }

    /// The corrected time at the device time `now`, as the core makes it (saturating, not
    /// below 0).
    static func corrected(_ now: Int64, _ offset: Int64) -> UInt64 {
        let (sum, overflow) = now.addingReportingOverflow(offset)
        if overflow { return now < 0 ? 0 : UInt64(Int64.max) }
        return sum < 0 ? 0 : UInt64(sum)
    }

    /// Sets each countdown of `rows` at `now`; `.rolledOver` (and `rows` untouched) when `now`
    /// left the window: some row's codes must be fetched.
    mutating func countDown(_ now: Int64, _ rows: inout [CodeRow]) -> Counted {
        guard now >= from, now < until, rows.count == entries.count else { return .rolledOver }
        if now == last { return .same }
        last = now
        var moved = false
        for i in 0..<entries.count {
            let entry = entries[i]
            let seconds = UInt32(entry.period - Self.corrected(now, entry.offset) % entry.period)
            if seconds != entry.shown {
                entries[i].shown = seconds
                rows[i].validFor = seconds
                moved = true
            }
        }
        return moved ? .moved : .same
    }
}

extension AuthCoreClient {
    /// The code list of a screen that refreshes every second (`CodeList`: `updates()` yields
    /// its rows). The names cross the FFI only when the list changed, each second only the
    /// codes and countdowns.
    public func codeList() -> CodeList { CodeList(client: self) }
}

#if !compiler(>=6)
extension CodeListRow: @unchecked Sendable {}
extension CodeListRows: @unchecked Sendable {}
extension CodeTicks: @unchecked Sendable {}
#endif

/// An open watch on a code list's version (`CodeList.watch()`): cancel it when the list leaves
/// the screen; releasing it cancels it too.
public final class CodeListWatch: @unchecked Sendable {
    private let handle: ListWatch
    private let observer: WatchObserver

    fileprivate init(handle: ListWatch, observer: WatchObserver) {
        self.handle = handle
        self.observer = observer
    }

    /// Ends the watch; more calls do nothing.
    public func cancel() {
        observer.close()
        handle.cancel()
    }

    deinit { cancel() }
}

/// The observer the core's watch thread calls; it holds the list weakly.
private final class WatchObserver: ListObserver, @unchecked Sendable {
    private weak var list: CodeList?
    private var open = true  // guarded by the list's lock

    init(list: CodeList) { self.list = list }

    func listChanged(version: UInt64) {
        list?.told(version) { open }
    }

    func close() {
        list?.closed {
            let was = open
            open = false
            return was
        }
    }
}

/// The watch a stream of `updates()` opened, cancelled when the stream ends.
private final class WatchSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var watch: CodeListWatch?
    private var ended = false

    var isEmpty: Bool {
        lock.lock(); defer { lock.unlock() }
        return watch == nil
    }

    func set(_ watch: CodeListWatch) {
        lock.lock()
        let late = ended
        if !late { self.watch = watch }
        lock.unlock()
        if late { watch.cancel() }
    }

    func cancel() {
        lock.lock()
        let watch = self.watch
        self.watch = nil
        ended = true
        lock.unlock()
        watch?.cancel()
    }
}
