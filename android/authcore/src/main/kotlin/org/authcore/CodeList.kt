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
 * [digits], the clock correction) and what moves each second ([code], [nextCode], [validFor]).
 * A new instance only when something in it changed, so `==` and identity are cheap for a UI.
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
    /** Whole seconds [code] stays valid (1..[period]), by the time source given at open. */
    val validFor: Int,
    /** Seconds added to the device clock for this row's codes (see [AccountCode.clockOffset]). */
    val clockOffset: Long,
    val clockFromServer: Boolean,
)

/**
 * The code list of a screen, kept current at the cost of a second's change only: the rows'
 * names are fetched once and again only when the core says the list changed (an account added,
 * renamed, moved or removed, an import, a restore, a container sync, a push enrollment, a clock
 * offset; through this app or another process). Each second in between asks the core only for
 * that version (a number) and counts the countdowns down from the time source's reading; the
 * codes cross, packed, only when a row's time step rolled over. While [follow] runs (or a
 * [watch] is open) the core tells the list the version from a thread of its own whenever it
 * moves, so a second in which nothing changed makes no FFI call at all. A new [CodeRow] is made only
 * for a row that moved, a new code string only for a code that changed.
 * The same accounts as [AuthCore.codes], in the same order.
 *
 * ```
 * val list = core.codeList()
 * lifecycleScope.launch { repeatOnLifecycle(Lifecycle.State.STARTED) { list.follow() } }
 * list.rows.collect { rows -> render(rows) }
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
     * When each row's codes stop being current, in device seconds: the end of the time step
     * they were fetched in (see [stepEnd]). Until then only its countdown moves.
     */
    private var ends = LongArray(0)
    private val state = MutableStateFlow<List<CodeRow>>(emptyList())
    /** The version the open watches were last told (null: no watch, or not told yet). */
    private val watched = MutableStateFlow<ULong?>(null)
    private var watches = 0
    /** [AuthCore.changes] when [version] was last read from the core: a change since, it asks. */
    private var changesAtRead: Long? = null

    /** The rows as of the last [refresh]; empty until the first. */
    val rows: StateFlow<List<CodeRow>> = state.asStateFlow()

    /**
     * Brings [rows] up to date now, on the calling thread. Returns whether [rows] changed.
     *
     * It reads the time source once and asks the core only for the list's version (one call
     * returning a number), and not even that while a [watch] is open and no change went through
     * [core] since it last asked; the countdowns are that reading plus each row's correction, modulo
     * its period. Only when a row's time step moved since its codes were made (a rollover), or
     * the version did, does it fetch the codes (one call, both buffers), and the names only in
     * the second case. A UI calls [follow] instead; this is for a caller with its own timer
     * (off the main thread: the core takes its lock and may look at the vault).
     */
    fun refresh(): Boolean = synchronized(lock) {
        val now = core.timeSource.nowUnixSeconds()
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
        if (listVersion == version && decodedFrom === stable && shown.size == stable.size) {
            val counted = countDown(now, stable, ends, shown)
            if (counted != null) {
                if (counted === shown) return false
                state.value = counted
                return true
            }
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
        val next = decode(ticks.validFor, ticks.codes.takeUnless { sameCodes }, stable, previous)
        decodedFrom = stable
        decodedCodes = ticks.codes
        ends = LongArray(stable.size) { stepEnd(now, stable[it]) }
        if (next === shown) return false
        state.value = next
        true
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
         * `end - period until end`, where the countdown is `end - now`. Divides once, when codes
         * are fetched, so the per-second countdown compares and subtracts only. Where the
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
         * [shown] with each countdown at [now], or null when [now] is outside a row's step
         * window ending at [ends] (its codes rolled over, or the clock went back: fetch them);
         * [shown] itself when nothing moved.
         */
        fun countDown(now: Long, stable: List<FfiCodeListRow>, ends: LongArray, shown: List<CodeRow>): List<CodeRow>? {
            val count = stable.size
            if (ends.size < count || shown.size < count) return null
            var rows: ArrayList<CodeRow>? = null
            for (i in 0 until count) {
                val left = ends[i] - now
                // A shown row is made from the stable row at its index, so its period is that row's.
                val old = shown[i]
                if (left <= 0 || left > old.period) return null
                val seconds = left.toInt()
                if (old.validFor == seconds) {
                    rows?.add(old)
                    continue
                }
                // Sized once: grown from empty, the list copied itself seven times for 100 rows.
                val moved = rows ?: ArrayList<CodeRow>(count).also { list ->
                    for (j in 0 until i) list.add(shown[j])
                    rows = list
                }
                moved.add(old.copy(validFor = seconds))
            }
            return rows ?: shown
        }

        /**
         * The rows the buffers describe (layout: bindings/src/code_list.rs), reusing each row of
         * [previous] (made from the same [stable] rows) that did not move, and [previous] itself
         * when none did. [codes] is null when it equals the buffer [previous] was made from: the
         * codes are [previous]'s and only the countdowns are read.
         */
        fun decode(validFor: ByteArray, codes: ByteArray?, stable: List<FfiCodeListRow>, previous: List<CodeRow>): List<CodeRow> {
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
                val seconds = (validFor[b].toInt() and 0xff) or ((validFor[b + 1].toInt() and 0xff) shl 8) or
                    ((validFor[b + 2].toInt() and 0xff) shl 16) or ((validFor[b + 3].toInt() and 0xff) shl 24)
                val old = previous.getOrNull(i)
                val code = code(old?.code)
                val nextCode = code(old?.nextCode)
                if (old != null && old.code === code && old.nextCode === nextCode && old.validFor == seconds) {
                    rows.add(old)
                } else {
                    changed = true
                    rows.add(
                        if (old != null && old.code === code && old.nextCode === nextCode) old.copy(validFor = seconds.checkedValidFor())
                        else stable[i].toRow(code, nextCode, seconds),
                    )
                }
            }
            if (codes != null && at != codes.size) throw AuthCoreException.Internal("code ticks: ${codes.size - at} bytes past the last row")
            return if (changed) rows else previous
        }

        private fun Int.checkedValidFor(): Int =
            if (this >= 0) this else throw ArithmeticException("CodeRow.validFor does not fit an Int")

        private fun FfiCodeListRow.toRow(code: String, nextCode: String, validFor: Int) = CodeRow(
            id = id,
            issuer = issuer,
            label = label,
            otpType = otpType,
            period = if (period <= Int.MAX_VALUE.toUInt()) period.toInt() else throw ArithmeticException("CodeRow.period: $period does not fit an Int"),
            digits = digits.toInt(),
            code = code,
            nextCode = nextCode,
            validFor = validFor.checkedValidFor(),
            clockOffset = clockOffset,
            clockFromServer = clockFromServer,
        )
    }
}
