package org.authcore

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.merge
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull

/**
 * One row of the code list: the account ([id], [issuer], [label], [otpType], [period],
 * [digits], the clock correction) and what moves once a period ([code], [nextCode] and the
 * second [validUntil] they hand over). The countdown is [validFor] at [CodeList.second]: a
 * row says when its code ends rather than how long it has left, so a second in which no code
 * rolled over changes no row. A new instance only when something in it changed, so `==` and
 * identity are cheap for a UI.
 */
data class CodeRow(
    val id: String,
    val issuer: String,
    val label: String,
    val otpType: OtpType,
    /** Seconds per code. */
    val period: Int,
    /** Characters per code. */
    val digits: Int,
    val code: String,
    val nextCode: String,
    /**
     * The second of the time source given at open (Unix seconds) at which [code] stops being
     * current and [nextCode] takes over.
     */
    val validUntil: Long,
    /** Seconds added to the device clock for this row's codes (see [AccountCode.clockOffset]). */
    val clockOffset: Long,
    val clockFromServer: Boolean,
) {
    /**
     * Whole seconds [code] stays valid at the time source's second [now] (usually
     * [CodeList.second]): 1..[period] while it is current, 0 once [validUntil] passed (the
     * list has the next code by its next refresh).
     */
    fun validFor(now: Long): Int {
        if (now >= validUntil) return 0
        val left = validUntil - now // negative only when it overflowed: far ahead
        return if (left < 0 || left >= period) period else left.toInt()
    }
}

/**
 * The code list of a screen, kept current at the cost of a second's change only: the rows'
 * names are fetched once and again only when the core says the list changed (an account added,
 * renamed, moved or removed, an import, a restore, a container sync, a push enrollment, a clock
 * offset; through this app or another process). Each second in between asks the core only for
 * that version (a number) and moves [second]; the codes cross, packed, only when a row's time
 * step rolled over. While [follow] runs (or a [watch] is open) the core tells the list the
 * version from a thread of its own whenever it moves, so a second in which nothing changed
 * makes no FFI call and no row at all: each row carries the second its code ends
 * ([CodeRow.validUntil]) and the countdown is [CodeRow.validFor] at [second]. A new [CodeRow]
 * is made only for a row whose code rolled over or whose account changed, a new code string
 * only for a code that changed. The same accounts as [AuthCore.codes], in the same order.
 *
 * ```
 * val list = core.codeList()
 * lifecycleScope.launch { repeatOnLifecycle(Lifecycle.State.STARTED) { list.follow() } }
 * combine(list.rows, list.second) { rows, now -> rows.map { it to it.validFor(now) } }
 *     .collect { shown -> render(shown) }
 * ```
 *
 * Thread-safe: refreshes are serialized on the list.
 */
class CodeList internal constructor(private val core: AuthCore) {
    private val lock = Any()
    private var version: ULong? = null
    private var stable: List<FfiCodeListRow> = emptyList()
    /** The [stable] rows [rows] were made from: a fetched list makes every row anew. */
    private var decodedFrom: List<FfiCodeListRow>? = null
    /** The codes buffer [rows] were made from: while the next one is equal, only countdowns move. */
    private var decodedCodes: ByteArray? = null
    /**
     * The device seconds `windowStart until windowEnd` in which every row's codes stay the ones
     * fetched: where all of their time steps overlap (see [stepEnd]). Inside it a refresh
     * changes no row.
     */
    private var windowStart = 0L
    private var windowEnd = Long.MIN_VALUE
    private val state = MutableStateFlow<List<CodeRow>>(emptyList())
    private val clock = MutableStateFlow(core.timeSource.nowUnixSeconds())
    /** The version the open watches were last told (null: no watch, or not told yet). */
    private val watched = MutableStateFlow<ULong?>(null)
    private var watches = 0
    /** [AuthCore.changes] when [version] was last read from the core: a change since, it asks. */
    private var changesAtRead: Long? = null

    /** The rows as of the last [refresh]; empty until the first. */
    val rows: StateFlow<List<CodeRow>> = state.asStateFlow()

    /**
     * The time source's second (Unix seconds) as of the last [refresh], set after [rows]: the
     * countdowns are each row's [CodeRow.validFor] at it. Until the first refresh, the second
     * the list was made in.
     */
    val second: StateFlow<Long> = clock.asStateFlow()

    /**
     * Brings [rows] up to date now, on the calling thread. Returns whether [rows] changed.
     *
     * It reads the time source once and asks the core only for the list's version (one call
     * returning a number), and not even that while a [watch] is open and no change went through
     * [core] since it last asked; the reading becomes [second]. Only when a row's time step
     * moved since its codes were made (a rollover, or the clock went back), or the version did,
     * does it fetch the codes (one call, both buffers), and the names only in the second case.
     * A UI calls [follow] instead; this is for a caller with its own timer (off the main
     * thread: the core takes its lock and may look at the vault).
     */
    fun refresh(): Boolean = synchronized(lock) {
        val now = core.timeSource.nowUnixSeconds()
        val changed = update(now)
        clock.value = now
        changed
    }

    /** [refresh] at the time source's second [now], under [lock]. */
    private fun update(now: Long): Boolean {
        val change = core.changes.value
        val told = watched.value
        val held = version
        // A watch tells of every move, another process's too (versions only grow); of a change
        // through [core] it may not have told yet, so after one the version is read.
        val listVersion = if (told != null && held != null && change == changesAtRead) {
            maxOf(told, held)
        } else {
            ffiCall { core.authenticator.listVersion() }.also { changesAtRead = change }
        }
        val shown = state.value
        if (listVersion == version && decodedFrom === stable && shown.size == stable.size &&
            now >= windowStart && now < windowEnd
        ) {
            return false
        }
        var ticks = ffiCall { core.authenticator.codeTicksOn(now) }
        // A change between two calls shows as another version: fetch until they agree.
        var tries = 0
        while (ticks.version != version) {
            if (++tries > MAX_REFETCH) return false // changing faster than it can be read: next time
            val list = ffiCall { core.authenticator.codeList() }
            version = list.version
            stable = list.rows
            ticks = ffiCall { core.authenticator.codeTicksOn(now) }
        }
        val previous = if (decodedFrom === stable) shown else emptyList()
        val sameCodes = previous.size == stable.size && ticks.codes.contentEquals(decodedCodes)
        val next = decode(now, ticks.validFor, ticks.codes.takeUnless { sameCodes }, stable, previous)
        decodedFrom = stable
        decodedCodes = ticks.codes
        var start = Long.MIN_VALUE
        var end = Long.MAX_VALUE
        for (row in stable) {
            val stepEnd = stepEnd(now, row)
            end = minOf(end, stepEnd)
            start = maxOf(start, stepEnd - row.period.toLong())
        }
        windowStart = start
        windowEnd = end
        if (next === shown) return false
        state.value = next
        return true
    }

    /**
     * Keeps [rows] current until cancelled: refreshes on [AuthCore]'s dispatcher whenever the
     * time source's second moves (read every [pollMillis]), a change went through [core] (at
     * once), or the core's watch saw another process change the vault (checked every
     * [watchMillis]). Collect [rows] to draw them; run this while the list is visible.
     */
    suspend fun follow(pollMillis: Long = 100, watchMillis: Long = 1000) {
        require(pollMillis > 0) { "pollMillis must be positive (was $pollMillis)" }
        watch(watchMillis).use {
            withContext(core.dispatcher) {
                var seenSecond: Long? = null
                var seenChange: Long? = null
                var seenVersion: ULong? = null
                while (true) {
                    val change = core.changes.value
                    val told = watched.value
                    val second = core.timeSource.nowUnixSeconds()
                    if (second != seenSecond || change != seenChange || told != seenVersion) {
                        seenSecond = second
                        seenChange = change
                        seenVersion = told
                        refresh()
                    }
                    withTimeoutOrNull(pollMillis) {
                        merge(core.changes.filter { it != change }, watched.filter { it != told }).first()
                    }
                }
            }
        }
    }

    /**
     * Has the core watch the list's version (every [intervalMillis], on a thread of its own)
     * until the returned handle is closed, so that [refresh] need not ask for it: for a caller
     * that drives [refresh] with its own timer. [follow] opens one itself.
     */
    fun watch(intervalMillis: Long = 1000): AutoCloseable {
        if (intervalMillis !in 1..60_000) throw AuthCoreException.InvalidInput("intervalMillis: $intervalMillis is not between 1 and 60000")
        var open = true // guarded by [lock], as are [watches] and what [watched] is set to
        val observer = object : ListObserver {
            override fun listChanged(version: ULong) = synchronized(lock) {
                val before = watched.value
                if (open && (before == null || version > before)) watched.value = version
            }
        }
        synchronized(lock) { watches++ }
        val handle = try {
            ffiCall { core.authenticator.watchList(observer, intervalMillis.toUInt()) }
        } catch (e: Throwable) {
            synchronized(lock) { open = false; watches-- }
            throw e
        }
        return AutoCloseable {
            val closing = synchronized(lock) {
                val was = open
                open = false
                if (was && --watches == 0) watched.value = null
                was
            }
            if (closing) {
                handle.cancel()
                handle.close()
            }
        }
    }

    internal companion object {
        private const val MAX_REFETCH = 4

        /** The corrected time of [row] at the device time [now], as the core makes it (saturating, not below 0). */
        private fun corrected(now: Long, row: FfiCodeListRow): Long {
            val sum = now + row.clockOffset
            val overflowed = ((now xor sum) and (row.clockOffset xor sum)) < 0
            return if (overflowed) (if (now < 0) 0 else Long.MAX_VALUE) else sum.coerceAtLeast(0)
        }

        /**
         * The device second at which [row]'s time step at [now] ends: its step covers
         * `end - period until end`, where the countdown is `end - now`. Computed once, when codes
         * are fetched, so a second inside every row's step compares two numbers only. Where the
         * corrected time is not `now + offset` (clamped below 1970 or at the end of time) it is
         * [now]: the row then asks the core again each second.
         */
        private fun stepEnd(now: Long, row: FfiCodeListRow): Long {
            val time = corrected(now, row)
            if (time != now + row.clockOffset) return now
            val period = row.period.toLong()
            val end = now + (period - time % period)
            return if (end < now) now else end
        }

        /**
         * The rows the buffers describe at the device second [now] (layout:
         * bindings/src/code_list.rs), reusing each row of [previous] (made from the same
         * [stable] rows) that did not move, and [previous] itself when none did. [codes] is null
         * when it equals the buffer [previous] was made from: the codes are [previous]'s and only
         * the countdowns are read, each becoming the second its code ends.
         */
        fun decode(now: Long, validFor: ByteArray, codes: ByteArray?, stable: List<FfiCodeListRow>, previous: List<CodeRow>): List<CodeRow> {
            if (validFor.size != 4 * stable.size) {
                throw AuthCoreException.Internal("code ticks: ${validFor.size} countdown bytes for ${stable.size} rows")
            }
            if (codes == null && previous.size != stable.size) {
                throw AuthCoreException.Internal("code ticks: no codes for ${stable.size} new rows")
            }
            var at = 0
            fun code(old: String?): String {
                val buffer = codes ?: return old ?: ""
                if (at >= buffer.size) throw AuthCoreException.Internal("code ticks end after $at bytes")
                val length = buffer[at++].toInt() and 0xff
                if (length > buffer.size - at) throw AuthCoreException.Internal("code ticks end inside a code")
                val start = at
                at += length
                if (old != null && old.length == length && (0 until length).all { old[it].code == buffer[start + it].toInt() }) {
                    return old
                }
                return String(buffer, start, length, Charsets.US_ASCII)
            }
            var changed = previous.size != stable.size
            val rows = ArrayList<CodeRow>(stable.size)
            for (i in stable.indices) {
                val b = 4 * i
                val seconds = (validFor[b].toLong() and 0xff) or ((validFor[b + 1].toLong() and 0xff) shl 8) or
                    ((validFor[b + 2].toLong() and 0xff) shl 16) or ((validFor[b + 3].toLong() and 0xff) shl 24)
                // The core's countdown as the second it reaches 0 (saturating at the end of time).
                val until = if (now > Long.MAX_VALUE - seconds) Long.MAX_VALUE else now + seconds
                val old = previous.getOrNull(i)
                val code = code(old?.code)
                val nextCode = code(old?.nextCode)
                if (old != null && old.code === code && old.nextCode === nextCode && old.validUntil == until) {
                    rows.add(old)
                } else {
                    changed = true
                    rows.add(
                        if (old != null && old.code === code && old.nextCode === nextCode) old.copy(validUntil = until)
                        else stable[i].toRow(code, nextCode, until),
                    )
                }
            }
            if (codes != null && at != codes.size) throw AuthCoreException.Internal("code ticks: ${codes.size - at} bytes past the last row")
            return if (changed) rows else previous
        }

        private fun FfiCodeListRow.toRow(code: String, nextCode: String, validUntil: Long) = CodeRow(
            id = id,
            issuer = issuer,
            label = label,
            otpType = otpType,
            period = if (period <= Int.MAX_VALUE.toUInt()) period.toInt() else throw ArithmeticException("CodeRow.period: $period does not fit an Int"),
            digits = digits.toInt(),
            code = code,
            nextCode = nextCode,
            validUntil = validUntil,
            clockOffset = clockOffset,
            clockFromServer = clockFromServer,
        )
    }
}
