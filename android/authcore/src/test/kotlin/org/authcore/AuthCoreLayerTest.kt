package org.authcore

import java.nio.file.Files
import java.nio.file.Path
import java.security.KeyStoreException
import java.time.Instant
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.withTimeoutOrNull
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * The idiomatic layer: every FFI call through [AuthCore], with Kotlin types, checked
 * conversions and a [AuthCore.codesFlow] driven by the injected clock.
 */
class AuthCoreLayerTest {
    private val dir: Path = Files.createTempDirectory("authcore-kotlin-layer")
    private val vault = dir.resolve("vault.sqlite").toString()

    @AfterEach
    fun cleanUp() {
        dir.toFile().deleteRecursively()
    }

    private suspend fun open(time: TimeSource = FixedTime(59), platform: Platform = Platform.ANDROID) =
        AuthCore.open(vault, SoftwareKeyStore(), platform, AuthCore.software(2048), timeSource = time)

    private val rfcSha1 = "otpauth://totp/RFC:sha1?secret=$SHA1_SEED&digits=8&algorithm=SHA1"

    @Test
    fun `codesFlow emits on the injected clock's rollover and on changes, never the same list twice`(): Unit = runBlocking {
        val time = FixedTime(1111111108) // two seconds before a 30 s period ends
        open(time).use { core ->
            core.addUri(rfcSha1)
            val emissions = Channel<List<AccountCode>>(Channel.UNLIMITED)
            val collector = launch { core.codesFlow(pollMillis = 5).collect { emissions.send(it) } }
            suspend fun next() = withTimeout(5_000) { emissions.receive() }
            suspend fun assertQuiet(why: String) =
                assertNull(withTimeoutOrNull(300) { emissions.receive() }, "no emission: $why")

            val start = next().single()
            assertEquals(listOf("07081804", 2, "14050471"), listOf(start.code, start.validFor, start.nextCode))
            // The wall clock moves on; the injected one stands still: nothing new to show.
            assertQuiet("the time source did not move")

            time.now = 1111111109 // a countdown second ticked
            assertEquals(1, next().single().validFor)
            assertQuiet("still 1111111109")

            time.now = 1111111110 // the rollover: the next code is now current
            val rolled = next().single()
            assertEquals(listOf("14050471", 30), listOf(rolled.code, rolled.validFor))
            assertQuiet("after the rollover")

            core.addUri("otpauth://totp/Other:bob?secret=JBSWY3DPEHPK3PXP&issuer=Other") // added: at once
            assertEquals(listOf("RFC", "Other"), next().map { it.issuer })
            val other = core.accounts().last()
            core.rename(other.id, issuer = "Renamed")
            assertEquals(listOf("RFC", "Renamed"), next().map { it.issuer })
            core.setNote(other.id, "a note") // not in the codes list: nothing to redraw
            assertQuiet("a note is not shown in the list")
            core.delete(other.id)
            assertEquals(listOf("RFC"), next().map { it.issuer })
            assertQuiet("nothing changed since the delete")
            collector.cancel()
        }
    }

    @Test
    fun `every vault call is reachable through the layer with Kotlin types`(): Unit = runBlocking {
        open().use { core ->
            val added = core.addUriLines(
                "$rfcSha1\notpauth://hotp/Bank:me?secret=$SHA1_SEED&counter=0\n",
            )
            assertEquals(listOf(false, false), added.map { it.alreadyPresent })
            val (totp, hotp) = added.map { it.account }
            assertEquals(8, totp.digits)
            assertEquals(30, totp.period)
            assertNull(totp.counter)
            assertEquals(0L, hotp.counter)
            assertEquals(Instant.ofEpochSecond(59), totp.createdAt, "stamped by the injected clock")

            assertEquals(listOf("94287082"), core.codesAt(Instant.ofEpochSecond(59)).map { it.code })
            assertEquals(listOf("07081804"), core.codesAt(Instant.ofEpochSecond(1111111109), "sha1").map { it.code })
            assertEquals(HotpCode(hotp.id, "755224", 0L), core.nextHotp(hotp.id))
            assertEquals(1L, core.search("Bank").single().counter)

            assertEquals(0L, core.clockOffset())
            core.setClockOffset(-30)
            assertEquals(-30L, core.clockOffset())
            assertEquals(-30L, core.codes().single().clockOffset)
            assertThrows<AuthCoreException.InvalidInput> { runBlocking { core.setClockOffset(100_000) } }

            assertEquals(hotp.id, core.move(hotp.id, 0).id)
            assertEquals(listOf(hotp.id, totp.id), core.accounts().map { it.id })
            assertEquals("g", core.setGroup(totp.id, "g").group)

            assertFalse(core.hasPassword())
            core.setPassword("correct horse")
            assertTrue(core.hasPassword())
            core.removePassword()
            assertFalse(core.hasPassword())

            val exported = core.exportOtpauthUris()
            assertEquals(2, exported.size)
            assertTrue(exported.all { it.startsWith("otpauth://") && it.contains("secret=") })
            val migration = core.exportMigration()
            assertTrue(migration.leftOut.isEmpty(), migration.toString())
            assertTrue(migration.payloads.single().startsWith("otpauth-migration://offline?data="), migration.toString())
            assertEquals(listOf("RFC", "Bank"), AuthCore.previewUri(migration.payloads.single()).map { it.issuer }.sorted().reversed())
            val one = core.exportAccountUri(totp.id)
            assertEquals(exported.single { it.contains("RFC") }, one)
            val png = AuthCore.qrCodePng(one)
            assertEquals(listOf<Byte>(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte()), png.take(4))
            // A plain Aegis file names both accounts; an encrypted one none of them.
            val plain = core.exportAegis(null)
            assertTrue(plain.contains("\"RFC\"") && plain.contains("\"Bank\""), plain)
            val sealed = core.exportAegis("aegis pw")
            assertFalse(sealed.contains("RFC"), sealed)
            val reread = core.previewImport(sealed.toByteArray(), "aegis pw")
            assertEquals(listOf("Bank", "RFC"), reread.entries.map { it.issuer }.sorted())
            reread.close()
            // What Google Authenticator cannot carry is left out, named.
            val steam = core.addUri("otpauth://steam/Steam:gamer?secret=MFRGGZDFMZTWQ2LK").single().account
            val partial = core.exportMigration()
            assertEquals(listOf(steam.id), partial.leftOut.map { it.accountId })
            assertEquals("Steam codes cannot be exported to Google Authenticator", partial.leftOut.single().reason)
        }
    }

    @Test
    fun `passwordless calls default to the platform given at open`(): Unit = runBlocking {
        open(platform = Platform.ANDROID).use { core ->
            assertEquals(Platform.ANDROID, core.platform)
            assertEquals(PasswordlessRule(1, requireNumberMatching = true, requireDeviceUnlock = true), core.passwordlessRule())
            assertNull(core.passwordlessRule(Platform.IOS).maxAccounts)
            val (a, b) = core.addUriLines("$rfcSha1\notpauth://totp/Two:b?secret=JBSWY3DPEHPK3PXP").map { it.account.id }
            assertTrue(core.enablePasswordless(a).passwordless)
            val limit = assertThrows<AuthCoreException.PasswordlessLimit> { runBlocking { core.enablePasswordless(b) } }
            assertEquals(Platform.ANDROID, limit.platform)
            assertEquals(1, limit.limit)
            assertEquals(listOf("RFC (sha1)"), limit.holders)
            assertEquals(
                "android allows passwordless for 1 account; RFC (sha1) already has it: turn it off there first, or move it",
                limit.message,
            )
            // The generated exception stays inside the layer: nothing an app catches leads to it.
            assertNull(limit.cause)
            assertTrue(core.movePasswordless(a, b).passwordless)
            assertFalse(core.disablePasswordless(b).passwordless)
            core.setPasswordlessRules("""{"passwordless":{"android":{"max_accounts":2}}}""")
            assertEquals(2, core.passwordlessRule().maxAccounts)
            core.setPasswordlessRules(null)
            assertEquals(1, core.passwordlessRule().maxAccounts)
        }
    }

    @Test
    fun `the core's diagnostics reach the LogSink given at open`(): Unit = runBlocking {
        val lines = java.util.concurrent.ConcurrentLinkedQueue<String>()
        val sink = object : LogSink {
            override fun log(level: LogLevel, target: String, message: String) {
                lines.add("$level $target: $message")
            }
        }
        AuthCore.open(vault, SoftwareKeyStore(), Platform.ANDROID, AuthCore.software(2048), logger = sink).use { core ->
            core.addUri(rfcSha1)
        }
        assertEquals("INFO vault: vault opened: 0 account(s)", lines.first())
        assertFalse(lines.any { SHA1_SEED in it }, "$lines")
    }

    @Test
    fun `an id prefix that matches several accounts says how many, and a missing one is NotFound`(): Unit = runBlocking {
        open().use { core ->
            // 17 accounts, so at least two ids share their first hex digit.
            val uris = (1..17).joinToString("\n") { "otpauth://totp/Many:user$it?secret=JBSWY3DPEHPK3PXP" }
            val ids = core.addUriLines(uris).map { it.account.id }
            val (prefix, sharing) = ids.groupBy { it.take(1) }.entries.first { it.value.size > 1 }
            val ambiguous = assertThrows<AuthCoreException.Ambiguous> { runBlocking { core.delete(prefix) } }
            assertEquals(sharing.size, ambiguous.matches)
            assertEquals("'$prefix' matches ${sharing.size} accounts; give more of the id", ambiguous.message)
            val missing = assertThrows<AuthCoreException.NotFound> { runBlocking { core.delete("no-such-id") } }
            assertEquals("no account matches 'no-such-id'", missing.message)
            assertEquals(17, core.accounts().size, "refused calls change nothing")
        }
    }

    @Test
    fun `arguments the FFI cannot carry are refused by name, never wrapped`(): Unit = runBlocking {
        open().use { core ->
            val id = core.addUri(rfcSha1).single().account.id
            val position = assertThrows<IllegalArgumentException> { runBlocking { core.move(id, -1) } }
            assertEquals("position must not be negative (was -1)", position.message)
            val at = assertThrows<IllegalArgumentException> { runBlocking { core.codesAt(Instant.ofEpochSecond(-1)) } }
            assertEquals("at must not be before 1970 (was 1969-12-31T23:59:59Z)", at.message)
            assertThrows<IllegalArgumentException> { core.codesFlow(pollMillis = 0) }
            assertEquals(id, core.accounts().single().id, "nothing moved")
        }
    }

    @Test
    fun `the platform key store error does not collide with java security's`() {
        // Both names in one file, unqualified: the generated one is AuthCoreKeyStoreException.
        val platform: Exception = AuthCoreKeyStoreException.Unavailable("device locked")
        val jca: Exception = KeyStoreException("JCA")
        assertFalse(platform is KeyStoreException)
        assertEquals("reason=device locked", platform.message)
        assertEquals("JCA", jca.message)
    }

    @Test
    fun `software key sizes are the core's to check, at open`(): Unit = runBlocking {
        for (bits in listOf(-2048, 0, 1024, 8192)) {
            val path = dir.resolve("bits$bits.sqlite")
            val refused = assertThrows<AuthCoreException.InvalidInput>("bits $bits") {
                runBlocking { AuthCore.open(path.toString(), SoftwareKeyStore(), Platform.ANDROID, AuthCore.software(bits)) }
            }
            assertEquals("software_key_bits: $bits is not supported (use 2048, 3072 or 4096)", refused.message)
        }
        AuthCore.open(vault, SoftwareKeyStore(), Platform.ANDROID, AuthCore.software(3072)).use { core ->
            assertTrue(core.accounts().isEmpty())
        }
    }
}
