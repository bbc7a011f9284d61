package org.authcore

import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.time.Instant
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * Backups through [AuthCore] as an app uses them: a backup created on one vault restores onto a
 * fresh one with identical codes, counters, groups and order; verify compares without changing
 * anything; a wrong password and a damaged file are typed errors that change nothing; an
 * automatic backup appears after a change.
 */
class BackupTest {
    private val dir: Path = Files.createTempDirectory("authcore-kotlin-backup")

    @AfterEach
    fun cleanUp() {
        dir.toFile().deleteRecursively()
    }

    private suspend fun open(name: String) =
        AuthCore.open(dir.resolve(name).toString(), SoftwareKeyStore(), Platform.ANDROID, AuthCore.software(2048), timeSource = FixedTime(59))

    private val at = Instant.ofEpochSecond(1_700_000_000)

    private suspend fun AuthCore.filled(): AuthCore {
        addUri("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
        addUri("otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Bank&counter=41&digits=8")
        addUri("otpauth://steam/Steam:dave?secret=MFRGGZDFMZTWQ2LK&issuer=Steam")
        val ids = accounts().map { it.id }
        setGroup(ids[0], "Work")
        nextHotp(ids[1])
        move(ids[2], 0)
        return this
    }

    private suspend fun AuthCore.view(): List<List<Any?>> {
        val codes = codesAt(at).associate { it.id to it.code }
        return accounts().map { listOf(it.issuer, it.label, it.group, it.counter, it.digits, codes[it.id]) }
    }

    @Test
    fun `a backup restores onto a fresh vault with identical codes, counters, groups and order`(): Unit = runBlocking {
        open("old.sqlite").use { old ->
            old.filled()
            val file = old.createBackup("backup pw")
            open("new.sqlite").use { fresh ->
                val report = fresh.restoreBackup(file, "backup pw")
                assertEquals(3, report.added.size)
                assertEquals(Instant.ofEpochSecond(59), report.createdAt)
                assertTrue(report.duplicates.isEmpty())
                assertEquals(old.view(), fresh.view())
                assertEquals(42L, fresh.accounts().single { it.issuer == "Bank" }.counter)
                val verify = fresh.verifyBackup(file, "backup pw")
                assertTrue(verify.identical, verify.toString())
                assertEquals(3, verify.matching)
                // A second restore needs merge; merging adds nothing twice.
                assertThrows<AuthCoreException.InvalidInput> { runBlocking { fresh.restoreBackup(file, "backup pw") } }
                assertEquals(3, fresh.restoreBackup(file, "backup pw", merge = true).duplicates.size)
            }
        }
    }

    @Test
    fun `a wrong password or a damaged file is a typed error and changes nothing`(): Unit = runBlocking {
        open("old.sqlite").use { old ->
            val file = old.filled().createBackup("pw")
            open("new.sqlite").use { fresh ->
                val wrong = assertThrows<AuthCoreException.WrongPassword> { runBlocking { fresh.restoreBackup(file, "PW") } }
                assertEquals("the backup does not decrypt: wrong password, or the file was altered", wrong.message)
                val flipped = file.copyOf().also { it[it.size - 5] = (it[it.size - 5].toInt() xor 1).toByte() }
                assertThrows<AuthCoreException.WrongPassword> { runBlocking { fresh.verifyBackup(flipped, "pw") } }
                val truncated = assertThrows<AuthCoreException.InvalidInput> { runBlocking { fresh.restoreBackup(file.copyOf(30), "pw") } }
                assertEquals("not a usable authcore backup: truncated: 30 bytes, a backup has at least 66", truncated.message)
                assertTrue(fresh.accounts().isEmpty())
            }
        }
    }

    @Test
    fun `an automatic backup appears after a change and restores`(): Unit = runBlocking {
        val backups = Files.createDirectory(dir.resolve("backups")).toFile()
        fun files() = backups.listFiles { f: File -> f.name.endsWith(".backup") }.orEmpty().sortedBy { it.name }
        open("old.sqlite").use { old ->
            old.filled()
            assertFalse(old.backupStatus().enabled)
            val status = old.enableAutoBackup(backups.absolutePath, "auto pw", keep = 5)
            assertTrue(status.enabled)
            assertEquals(1, status.backups)
            assertNull(status.lastError)
            assertEquals(1, files().size)
            old.addUri("otpauth://totp/New:n?secret=ONSWG4TFOQ&issuer=New")
            // The core writes it after two quiet seconds; wait for it as an app would not need to.
            val deadline = System.nanoTime() + 30_000_000_000L
            while (files().size < 2 && System.nanoTime() < deadline) Thread.sleep(100)
            assertEquals(2, files().size, "the change was backed up without a flush")
            assertNull(old.flushBackup(), "nothing left pending")
            open("restored.sqlite").use { restored ->
                restored.restoreBackup(files().last().readBytes(), "auto pw")
                assertEquals(old.view(), restored.view())
            }
            old.disableAutoBackup()
            assertFalse(old.backupStatus().enabled)
            assertTrue(old.reenrollList().isEmpty())
        }
    }

    @Test
    fun `a format 1 backup written by the desktop CLI restores here with the same codes`(): Unit = runBlocking {
        // core/testdata/backup-format1.backup (password "format 1"), also restored by the Rust
        // and Swift suites: a backup holds no platform key, so it moves between OSes.
        val file = java.util.Base64.getDecoder().decode(
            "QVVUSENCQUsBAQABAAAAAAADAAAAAabEmZQLBwIvpQWHKIACPqOalD3zeuxV5E2HjVjzXiozu0F9eAbnBzFo09pt9v9cNUrp" +
            "3q7rlinqCbaXAiU8/O4C6BEa8p7ss+VWXqYJ5SB7AZ96yXLEhSjPSSKWOmQkDBKwL9rKnAviRyTWPpcs614bILUd/31BbKUN" +
            "SImQ3ie2cR3Kbs6zrFoaiBSMQBZPGL4O/g/ddvYIIVXvLJjiMH0DLMGFyIqiOC+FapwK61X/nXyc9/95A/90JFdKu0wrINej" +
            "YN1YwpMdS/Cwk+hHU/oIDTDtB6mYRh/ke2a/XxIgYJ2VjNDCb5Ql9IY9wAGNo+2nE1UySETEfsAisnX/xuwl9uoyBOcGM4tT" +
            "wHzQKwsasuYQrECZUMYONcfQ8SIPMf7kwe+IBydXKI6kkdGTpeSeSeelz2nxMm5LHp7QRN2j66+4xHvy4Px+h4oyF+2pKmdF" +
            "ACV7s6oOQc7cqvlmQvdTZ0YfW9OJAVlvKP+yj+MUbg1qgTyHkMt5AifNe9Y5iIHz4Y5nhqeXUo869Iob7KCWO3dbMCtdcnjs" +
            "hpRInECKN8c3x63llogz1YiHQhjkIN9N2/N5LMY7xHXBQAs3p9bbyoltqWEOaQgQcotVoHr6mc9f8PtGTLyYENeSwzBWcPrX" +
            "mWwLZJVgWN4UPYECaz769Y4pKJoR3qQHOry0Z5SMJUm2lD9kWLRfJsIbJO1x9CQVt7xyhfkFbdog0WWJOLJi6sftutS0U59a" +
            "0nznX1pCTY5f2viGUJttVeyUUm3GdROrOSfQXLHLgT9Sul2K1sPVcErF+V/5teww3+lGYGJ2oCKeb68G/LU9L5dptdI=",
        )
        open("restored.sqlite").use { core ->
            assertEquals(3, core.restoreBackup(file, "format 1").added.size)
            val codes = core.codesAt(at).associate { it.issuer to it.code }
            assertEquals(mapOf("GitHub" to "324550", "Steam" to "5DJH6"), codes)
            val accounts = core.accounts()
            assertEquals("Work", accounts[0].group)
            assertEquals("30055299", core.nextHotp(accounts[1].id).code)
        }
    }
}
