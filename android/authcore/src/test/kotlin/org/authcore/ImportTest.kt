package org.authcore

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.time.Instant
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * Other apps' real export files from the shared corpus (`shared/fixtures`, see its README for
 * the entries and check codes), imported through [AuthCore]. The corpus is found through the
 * system property `authcore.fixtures` (set by scripts/test-kotlin.sh) or `AUTHCORE_FIXTURES`;
 * without it these tests fail, they never skip.
 */
object Fixtures {
    val dir: Path by lazy {
        val configured = System.getProperty("authcore.fixtures")?.takeIf { it.isNotBlank() }
            ?: System.getenv("AUTHCORE_FIXTURES")?.takeIf { it.isNotBlank() }
            ?: error("no fixture corpus: set AUTHCORE_FIXTURES (or -Dauthcore.fixtures) to shared/fixtures")
        Paths.get(configured).also { check(Files.isDirectory(it)) { "fixture corpus $it is not a directory" } }
    }

    fun bytes(relative: String): ByteArray {
        val file = dir.resolve(relative)
        check(Files.isRegularFile(file)) { "fixture $file is missing from the corpus" }
        return Files.readAllBytes(file)
    }
}

class ImportTest {
    private val dir: Path = Files.createTempDirectory("authcore-kotlin-import")
    private val vault = dir.resolve("vault.sqlite").toString()

    @AfterEach
    fun cleanUp() {
        dir.toFile().deleteRecursively()
    }

    private suspend fun open() =
        AuthCore.open(vault, SoftwareKeyStore(), Platform.ANDROID, AuthCore.software(2048), timeSource = FixedTime(59))

    /** The README's check values: TOTP and Steam at t = 1700000000, HOTP at the file's counter. */
    private val checkAt = Instant.ofEpochSecond(1_700_000_000)
    private val totpChecks = mapOf("Deno" to "790195", "SPDX" to "9993814", "Airbnb" to "65516786", "Boeing" to "747JR")
    private val hotpChecks = mapOf("Issuu" to "253717", "Air Canada" to "4444976", "WWE" to "24622277")

    private suspend fun AuthCore.assertTimeCodes(issuers: Set<String>) {
        val codes = codesAt(checkAt).associate { it.issuer to it.code }
        for ((issuer, code) in totpChecks.filterKeys { it in issuers }) assertEquals(code, codes[issuer], "code of $issuer")
    }

    /** Advances the HOTP counters: call after the re-import checks, which compare counters too. */
    private suspend fun AuthCore.assertHotpCodes(issuers: Set<String>) {
        for ((issuer, code) in hotpChecks.filterKeys { it in issuers }) {
            val id = accounts().single { it.issuer == issuer }.id
            assertEquals(code, nextHotp(id).code, "HOTP code of $issuer")
        }
    }

    private fun ImportPreview.summary() = entries.map { listOf(it.position, it.otpType, it.issuer, it.label) }

    @Test
    fun `an encrypted Aegis vault imports its seven entries once`(): Unit = runBlocking {
        val file = Fixtures.bytes("aegis/importers/aegis_encrypted.json")
        open().use { core ->
            val wrong = assertThrows<AuthCoreException.WrongPassword> { runBlocking { core.previewImport(file, "wrong") } }
            assertEquals("wrong password for this Aegis file; nothing was imported", wrong.message)
            assertTrue(core.accounts().isEmpty(), "a wrong password changes nothing")

            val preview = core.previewImport(file, "test")
            assertEquals("Aegis", preview.format)
            assertEquals(
                listOf(
                    listOf(1, "totp", "Deno", "Mason"),
                    listOf(2, "totp", "SPDX", "James"),
                    listOf(3, "totp", "Airbnb", "Elijah"),
                    listOf(4, "hotp", "Issuu", "James"),
                    listOf(5, "hotp", "Air Canada", "Benjamin"),
                    listOf(6, "hotp", "WWE", "Mason"),
                    listOf(7, "steam", "Boeing", "Sophia"),
                ),
                preview.summary(),
            )
            assertTrue(preview.entries.all { it.action == ImportAction.New }, "${preview.entries}")
            assertTrue(core.accounts().isEmpty(), "a preview changes nothing")

            val report = preview.use { core.commitImport(it) }
            assertEquals("Aegis", report.format)
            assertEquals(listOf("Deno", "SPDX", "Airbnb", "Issuu", "Air Canada", "WWE", "Boeing"), report.added.map { it.issuer })
            assertEquals(listOf(6, 7, 8, 6, 7, 8, 5), report.added.map { it.digits })
            assertEquals(listOf(OtpType.HOTP), report.added.filter { it.issuer == "WWE" }.map { it.otpType })
            assertEquals(10300L, report.added.single { it.issuer == "WWE" }.counter)
            assertEquals(emptyList<String>(), report.duplicates)
            assertEquals(emptyList<SkippedEntry>(), report.skipped)
            assertEquals(7, core.accounts().size)
            core.assertTimeCodes(totpChecks.keys)

            val again = core.previewImport(file, "test")
            assertEquals(List(7) { ImportAction.AlreadyPresent }, again.entries.map { it.action })
            val second = core.commitImport(again, allOrNothing = false)
            assertEquals(emptyList<Account>(), second.added)
            assertEquals(7, second.duplicates.size, "${second.duplicates}")
            assertTrue("Deno (Mason)" in second.duplicates, "${second.duplicates}")
            assertEquals(7, core.accounts().size, "nothing added twice")

            val used = assertThrows<AuthCoreException.InvalidInput> { runBlocking { core.commitImport(again) } }
            assertEquals("this import preview was already committed: read the file again", used.message)
            core.assertHotpCodes(hotpChecks.keys)
        }
    }

    @Test
    fun `an encrypted 2FAS v4 backup imports all or nothing, its icons counted`(): Unit = runBlocking {
        val file = Fixtures.bytes("aegis/importers/2fas_authenticator_encrypted_v4.2fas")
        open().use { core ->
            assertThrows<AuthCoreException.WrongPassword> { runBlocking { core.previewImport(file, "tset") } }
            assertTrue(core.accounts().isEmpty(), "a wrong password changes nothing")

            val preview = core.previewImport(file, "test", format = "2fas")
            assertEquals("2FAS", preview.format)
            assertEquals(
                listOf(
                    listOf(1, "totp", "Deno", "Mason"),
                    listOf(2, "hotp", "Issuu", "James"),
                    listOf(3, "hotp", "Air Canada", "Benjamin"),
                    listOf(4, "hotp", "WWE", "Mason"),
                    listOf(5, "steam", "Boeing", "Sophia"),
                ),
                preview.summary(),
            )
            assertEquals(DroppedCounts(icons = 5, pins = 0, favourites = 0, extraGroups = 0), preview.dropped)

            val report = core.commitImport(preview, allOrNothing = true)
            assertEquals(5, report.added.size)
            assertEquals(5, report.dropped.icons)
            core.assertTimeCodes(setOf("Deno", "Boeing"))

            val again = core.previewImport(file, "test")
            assertEquals(List(5) { ImportAction.AlreadyPresent }, again.entries.map { it.action })
            again.close() // frees the parsed secrets without importing
            assertEquals(5, core.accounts().size)
            core.assertHotpCodes(setOf("Issuu", "Air Canada", "WWE"))
        }
    }

    @Test
    fun `a Google Authenticator export screenshot adds its accounts once`(): Unit = runBlocking {
        val image = Fixtures.bytes("extract_otp_secrets/example_export.png")
        open().use { core ->
            val added = core.addQrImage(image)
            assertEquals(
                listOf("Test1" to "test1@example1.com", "Test2" to "test2@example2.com", "Test3" to "test3@example3.com"),
                added.map { it.account.issuer to it.account.label },
            )
            assertTrue(added.none { it.alreadyPresent }, "$added")
            assertEquals(listOf(OtpType.TOTP), added.map { it.account.otpType }.distinct())

            assertTrue(core.addQrImage(image).all { it.alreadyPresent }, "the same image adds nothing")
            core.previewImport(image).use { preview ->
                assertEquals("QR code image", preview.format)
                assertEquals(List(3) { ImportAction.AlreadyPresent }, preview.entries.map { it.action })
            }
            assertEquals(3, core.accounts().size)

            val notOtp = Fixtures.bytes("extract_otp_secrets/tests/data/qr_but_without_otp.png")
            val refused = assertThrows<AuthCoreException.InvalidInput> { runBlocking { core.addQrImage(notOtp) } }
            assertEquals("this QR code image file is damaged: QR code 1: 'NOT A otpauth-migration:' is not an otpauth:// or otpauth-migration:// URI", refused.message)
            assertEquals(3, core.accounts().size, "a refused image adds nothing")
        }
    }
}
