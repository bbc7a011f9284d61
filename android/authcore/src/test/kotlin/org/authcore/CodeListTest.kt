package org.authcore

import java.nio.file.Files
import java.nio.file.Path
import java.util.Locale
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Tag
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * [CodeList]: its rows are what [AuthCore.codes] returns at every second, it fetches the names
 * again when the core's list version moves (here or through another connection), makes new
 * rows only for what moved, and follows the time source; plus the per-second refresh's FFI
 * cost (a benchmark: printed, never asserted).
 */
class CodeListTest {
    private val dir: Path = Files.createTempDirectory("authcore-kotlin-codelist")
    private val vault = dir.resolve("vault.sqlite").toString()
    /** One store for every handle a test opens: each [SoftwareKeyStore] has its own key. */
    private val store = SoftwareKeyStore()

    @AfterEach
    fun cleanUp() {
        dir.toFile().deleteRecursively()
    }

    private val uris = listOf(
        "otpauth://totp/RFC:sha1?secret=$SHA1_SEED&digits=8",
        "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Bank&counter=41",
        "otpauth://totp/Cloud:carol?secret=$SHA512_SEED&issuer=Cloud&algorithm=SHA512&period=60",
        "otpauth://steam/Steam:dave?secret=MFRGGZDFMZTWQ2LK&issuer=Steam",
    )

    private fun open(time: FixedTime): AuthCore =
        AuthCore(Authenticator.openOrCreate(vault, store, testOptions(time)), Platform.DESKTOP, time, Dispatchers.IO)

    /** A row as [AuthCore.codes] shows it at the time source's second [now]. */
    private fun AccountCode.row(now: Long) = CodeRow(id, issuer, label, otpType, period, code.length, code, nextCode, now + validFor, clockOffset, clockFromServer)

    @Test
    fun `rows are the codes at every second, across rollovers and a clock offset`(): Unit = runBlocking {
        val time = FixedTime(1111111100)
        open(time).use { core ->
            core.addUriLines(uris.joinToString("\n"))
            val list = core.codeList()
            for (offset in listOf(0L, 17L)) {
                core.setClockOffset(offset)
                for (second in 0 until 130) {
                    time.now = 1111111100L + second
                    list.refresh()
                    val codes = core.codes()
                    assertEquals(codes.map { it.row(time.now) }, list.rows.value, "+$second s, offset $offset")
                    assertEquals(time.now, list.second.value)
                    assertEquals(codes.map { it.validFor }, list.rows.value.map { it.validFor(list.second.value) }, "+$second s, offset $offset")
                }
            }
            // HOTP has no countdown: three rows. RFC 6238 at 59 s, so the comparison cannot pass on two equal mistakes.
            assertEquals(listOf("RFC", "Cloud", "Steam"), list.rows.value.map { it.issuer })
            core.setClockOffset(0)
            time.now = 59
            list.refresh()
            assertEquals(listOf("94287082", "1"), list.rows.value[0].let { listOf(it.code, it.validFor(59).toString()) })
        }
    }

    @Test
    fun `a change fetches the names again, and only what moved is new`(): Unit = runBlocking {
        val time = FixedTime(1111111100)
        open(time).use { core ->
            core.addUriLines(uris.joinToString("\n"))
            val list = core.codeList()
            assertTrue(list.refresh())
            val first = list.rows.value
            assertFalse(list.refresh(), "the same second: nothing moved")
            assertSame(first, list.rows.value)

            time.now += 1 // a countdown second: no row moves, only the list's second
            assertFalse(list.refresh())
            assertSame(first, list.rows.value)
            assertEquals(time.now, list.second.value)
            assertEquals(first[0].validFor(time.now - 1) - 1, first[0].validFor(time.now))

            val rfc = first[0].id
            core.rename(rfc, issuer = "Renamed")
            assertTrue(list.refresh())
            assertEquals(listOf("Renamed", "Cloud", "Steam"), list.rows.value.map { it.issuer })
            core.move(rfc, 3) // of all four accounts: the HOTP one counts
            list.refresh()
            assertEquals(listOf("Cloud", "Steam", "Renamed"), list.rows.value.map { it.issuer })
            core.delete(rfc)
            list.refresh()
            assertEquals(listOf("Cloud", "Steam"), list.rows.value.map { it.issuer })

            // Another connection (a second process, the CLI) adds one: seen at the next refresh.
            Authenticator.openOrCreate(vault, store, testOptions(time)).use { other ->
                other.addUri("otpauth://totp/Other:eve?secret=JBSWY3DPEHPK3PXP&issuer=Other")
            }
            assertTrue(list.refresh())
            assertEquals(listOf("Cloud", "Steam", "Other"), list.rows.value.map { it.issuer })
            assertEquals(core.codes().map { it.row(time.now) }, list.rows.value)
        }
    }

    @Test
    fun `a malformed tick buffer is an internal error, never a wrong row`() {
        val row = FfiCodeListRow("a", "I", "L", OtpType.TOTP, 30u, 6u, 0, false)
        val seven = byteArrayOf(7, 0, 0, 0)
        val codes = byteArrayOf(6) + "123456".toByteArray() + byteArrayOf(6) + "654321".toByteArray()
        val rows = CodeList.decode(100, seven, codes, listOf(row), emptyList())
        assertEquals(listOf(listOf("123456", "654321", "107", "7")), rows.map { listOf(it.code, it.nextCode, "${it.validUntil}", "${it.validFor(100)}") })
        assertSame(rows, CodeList.decode(100, seven, codes, listOf(row), rows), "nothing moved")
        assertSame(rows, CodeList.decode(100, seven, null, listOf(row), rows), "nothing moved")
        assertSame(rows, CodeList.decode(101, byteArrayOf(6, 0, 0, 0), null, listOf(row), rows), "a second later, the same end")
        val six = CodeList.decode(100, byteArrayOf(6, 0, 0, 0), null, listOf(row), rows).single()
        assertEquals(listOf("106", "6"), listOf("${six.validUntil}", "${six.validFor(100)}"))
        assertSame(rows[0].code, six.code)
        // The countdown at any second: 0 from the end on, never more than the period.
        assertEquals(listOf(0, 0, 1, 30, 30), listOf(107L, 200L, 106L, 77L, Long.MIN_VALUE).map { rows[0].validFor(it) })
        val late = CodeList.decode(Long.MAX_VALUE - 1, seven, codes, listOf(row), emptyList()).single()
        assertEquals(Long.MAX_VALUE, late.validUntil, "saturates at the end of time")
        val bad = listOf(
            Triple(seven, codes.copyOf(codes.size - 1), emptyList()),
            Triple(seven, codes + byteArrayOf(0), emptyList()),
            Triple(byteArrayOf(7, 0, 0), codes, emptyList()),
            Triple(seven, byteArrayOf(200.toByte(), '1'.code.toByte()), emptyList()),
            Triple(seven + seven, codes, emptyList()),
            Triple(seven, null, emptyList<CodeRow>()),
        )
        for ((validFor, c, previous) in bad) {
            assertThrows<AuthCoreException.Internal> { CodeList.decode(100, validFor, c, listOf(row), previous) }
        }
    }

    @Test
    fun `follow refreshes on the time source's second and at once after a change`(): Unit = runBlocking {
        val time = FixedTime(1111111108)
        open(time).use { core ->
            core.addUri(uris[0])
            val list = core.codeList()
            val follower = launch(Dispatchers.IO) { list.follow(pollMillis = 5) }
            suspend fun rowsWhere(what: String, p: (List<CodeRow>) -> Boolean) =
                withTimeout(5_000) { list.rows.first(p) }.also { assertTrue(p(it), what) }

            val first = rowsWhere("first refresh") { it.singleOrNull()?.validUntil == 1111111110L }
            time.now = 1111111109 // a countdown second: the list's second moves, no row
            withTimeout(5_000) { list.second.first { it == 1111111109L } }
            assertSame(first, list.rows.value)
            assertEquals(1, first.single().validFor(list.second.value))
            time.now = 1111111110 // the rollover
            val rolled = rowsWhere("rolled over") { it.singleOrNull()?.validUntil == 1111111140L }
            assertEquals("14050471", rolled.single().code)
            // The time source stands still: only the change itself can make this refresh.
            core.addUri("otpauth://totp/Other:bob?secret=JBSWY3DPEHPK3PXP&issuer=Other")
            rowsWhere("added") { rows -> rows.map { it.issuer } == listOf("RFC", "Other") }
            follower.cancel()
        }
    }

    @Test
    fun `follow sees another connection's change through the core's watch, the clock standing still`(): Unit = runBlocking {
        val time = FixedTime(1111111108)
        open(time).use { core ->
            core.addUri(uris[0])
            val list = core.codeList()
            val follower = launch(Dispatchers.IO) { list.follow(pollMillis = 5, watchMillis = 10) }
            withTimeout(5_000) { list.rows.first { it.size == 1 } }
            // Not through [core]: no change count moves, and the time source stands still, so
            // only the watch can make this refresh.
            Authenticator.openOrCreate(vault, store, testOptions(time)).use { other ->
                other.addUri("otpauth://totp/Other:eve?secret=JBSWY3DPEHPK3PXP&issuer=Other")
            }
            val seen = withTimeout(5_000) { list.rows.first { it.size == 2 } }
            assertEquals(listOf("RFC", "Other"), seen.map { it.issuer })
            follower.cancel()
            follower.join()
            // With no watch open, refresh asks the core for the version again: still current.
            Authenticator.openOrCreate(vault, store, testOptions(time)).use { other ->
                other.addUri("otpauth://totp/Third:f?secret=JBSWY3DPEHPK3PXP&issuer=Third")
            }
            assertTrue(list.refresh())
            assertEquals(listOf("RFC", "Other", "Third"), list.rows.value.map { it.issuer })
            val bad = assertThrows<AuthCoreException.InvalidInput> { list.watch(0) }
            assertEquals("intervalMillis: 0 is not between 1 and 60000", bad.message)
        }
    }

    @Test
    @Tag("benchmark")
    fun `FFI cost of the per-second refresh of 100 accounts`(): Unit = runBlocking {
        val time = FixedTime(1_700_000_000)
        open(time).use { core ->
            core.addUriLines((0 until 100).joinToString("\n") { "otpauth://totp/Bench:u$it?secret=JBSWY3DPEHPK3P${'A' + it % 26}${'A' + it / 26}&issuer=B$it" })
            val list = core.codeList()
            val auth = core.authenticator
            val rows = auth.codeList().rows
            val ticks = auth.codeTicksOn(time.now)
            val at = time.now
            val decoded = CodeList.decode(at, ticks.validFor, ticks.codes, rows, emptyList())
            // Each refresh is the next second, so one in 30 makes every code anew (a rollover).
            // The first body is what `follow()` pays each second: a watch is open, so a second
            // in which nothing changed makes no FFI call; the second is the same without one.
            val watch = list.watch()
            val unwatched = core.codeList()
            val timings = benchMicros(
                { time.now += 1; list.refresh() },
                { time.now += 1; unwatched.refresh() },
                { time.now += 1; auth.codeTicksOn(time.now) },
                { time.now += 1; auth.listVersion() },
                { CodeList.decode(at, ticks.validFor, ticks.codes, rows, emptyList()) },
                { CodeList.decode(at, ticks.validFor, null, rows, decoded) },
            )
            watch.close()
            assertEquals(100, list.rows.value.size)
            assertEquals(100, unwatched.rows.value.size)
            println(String.format(Locale.ROOT, "bench-row: kotlin_refresh_100 %.1f", timings[0]))
            val names = listOf(
                "refresh() with no watch open (a listVersion() call each second)",
                "codeTicksOn() alone (no time-source callback)",
                "listVersion()", "decode alone, every row new", "decode alone, same codes, same countdowns",
            )
            for ((name, micros) in names.zip(timings.drop(1))) {
                println(String.format(Locale.ROOT, "FFI cost (Kotlin/JVM): %s = %.1f µs", name, micros))
            }
        }
    }
}

/**
 * Microseconds per call of each body: warmed up (the JIT), then the median of 21 rounds of
 * batches of 300 calls, the bodies taking turns within each round, so another process taking
 * the CPU for a moment weighs on all of them alike and on the median little.
 */
fun benchMicros(vararg bodies: () -> Unit): List<Double> {
    // What an earlier test of the same JVM left on the heap is collected first, so that its
    // collection does not run beside these batches.
    System.gc()
    for (body in bodies) repeat(3000) { body() }
    val batches = bodies.map { ArrayList<Double>() }
    repeat(21) {
        for ((i, body) in bodies.withIndex()) {
            val start = System.nanoTime()
            repeat(300) { body() }
            batches[i].add((System.nanoTime() - start) / 1000.0 / 300)
        }
    }
    return batches.map { it.sorted()[it.size / 2] }
}
