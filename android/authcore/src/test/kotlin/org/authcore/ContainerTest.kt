package org.authcore

import java.nio.file.Files
import java.nio.file.Path
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import kotlin.test.assertNotNull

/**
 * privacyIDEA smartphone containers from Kotlin, against the real privacyIDEA 3.14 of the pi
 * peer over verified TLS, through [HttpUrlConnectionTransport]: register and sync, a code the
 * server accepts, a transfer to a second phone after which the first one is told the container
 * moved, and forgetting it there.
 */
class ContainerTest {
    companion object {
        @JvmStatic
        @BeforeAll
        fun trustStore() {
            PiPeer.requireTrustedCaInTrustStore()
        }
    }

    private val dir: Path = Files.createTempDirectory("authcore-kotlin-container")

    @AfterEach
    fun cleanUp() {
        dir.toFile().deleteRecursively()
    }

    private suspend fun open(name: String, transport: HttpTransport = HttpUrlConnectionTransport()): AuthCore =
        AuthCore.open(dir.resolve(name).toString(), SoftwareKeyStore(), Platform.ANDROID, AuthCore.software(2048), transport)

    private suspend fun AuthCore.codeOf(accountId: String): String = codes(accountId).single().code

    @Test
    fun `registers over verified TLS, syncs, moves to a new phone and forgets the old copy`(): Unit = runBlocking {
        val made = PiPeer.container("trusted")
        val transport = RecordingTransport()
        open("old.sqlite", transport).use { old ->
            val scan = old.scanContainer(made.qr)
            val preview = scan.preview()
            assertEquals(made.container, preview.serial)
            assertTrue(preview.sslVerify)
            assertFalse(preview.needsPassphrase)
            assertTrue(preview.url.startsWith("https://127.0.0.1:"), preview.url)

            val registered = old.registerContainer(scan, deviceBrand = "Acme", deviceModel = "Kotlin Ä1")
            assertNull(registered.syncError)
            val report = assertNotNull(registered.sync)
            assertEquals(1, report.added.size)
            assertEquals(OtpType.TOTP, report.added.single().otpType)
            assertTrue(registered.container.policies.clientRollover)
            assertTrue(
                transport.sent.any { it.endsWith("/container/synchronize -> 200") },
                "synced through the Kotlin transport: ${transport.sent}",
            )
            val again = assertThrows<AuthCoreException.InvalidInput> { runBlocking { old.registerContainer(scan) } }
            assertEquals("this container QR code was already used: scan it again", again.message)

            val token = old.containers().single().tokens.single()
            assertEquals(made.totpSerial, token.tokenSerial)
            assertEquals("totp", token.tokenType)
            val oldCode = old.codeOf(token.accountId)
            assertTrue(PiPeer.check(made.user, made.pin + oldCode), "privacyIDEA accepts the synced secret")
            assertEquals(1, old.syncContainer(made.container).unchanged)

            val qr = old.containerTransferQr(made.container)
            assertTrue(qr.startsWith("pia://container/"), qr)
            open("new.sqlite").use { new ->
                val moved = new.registerContainer(new.scanContainer(qr))
                val account = assertNotNull(moved.sync).added.single()
                assertFalse(PiPeer.check(made.user, made.pin + oldCode), "the old phone's code died")
                assertTrue(PiPeer.check(made.user, made.pin + new.codeOf(account.id)))
            }
            val e = assertThrows<AuthCoreException.ContainerMoved> { runBlocking { old.syncContainer(made.container) } }
            assertEquals(made.container, e.serial)
            assertEquals(1, old.forgetContainer(made.container, deleteAccounts = true))
            assertTrue(old.accounts().isEmpty())
            assertTrue(old.containers().isEmpty())
        }
    }

    @Test
    fun `a bad QR code is one clear error and a gone container says so`(): Unit = runBlocking {
        open("vault.sqlite").use { core ->
            val bad = assertThrows<AuthCoreException.BadPush> { runBlocking { core.scanContainer("pia://container/X?nonce=a") } }
            assertEquals("container QR code: time: is missing", bad.message)
            val unknown = assertThrows<AuthCoreException.NotFound> { runBlocking { core.syncContainer("SMPH0000NONE") } }
            assertEquals("no container SMPH0000NONE is registered on this device", unknown.message)
            val made = PiPeer.container("plain")
            core.registerContainer(core.scanContainer(made.qr))
            val done = core.unregisterContainer(made.container)
            assertFalse(done.alreadyGone)
            assertEquals(1, done.accountsKept)
        }
    }
}
