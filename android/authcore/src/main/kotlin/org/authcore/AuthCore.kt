package org.authcore

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.withContext

/**
 * The coroutine face of [Authenticator] for Android apps: every call is a `suspend` function that
 * runs on [dispatcher] (I/O by default), so UI code calls it from the main thread without
 * blocking. Failures are thrown as the sealed [AuthCoreException] hierarchy:
 * [AuthCoreException.InvalidInput], [AuthCoreException.NotFound], [AuthCoreException.WrongPassword],
 * [AuthCoreException.KeyStore] and [AuthCoreException.Vault], each with a message a user can read.
 */
class AuthCore(
    val authenticator: Authenticator,
    private val dispatcher: CoroutineDispatcher = Dispatchers.IO,
) : AutoCloseable {
    companion object {
        /** Opens the vault at [path], creating it on first use, its master key wrapped by [keyStore]. */
        suspend fun open(
            path: String,
            keyStore: VaultKeyStore,
            timeSource: TimeSource = systemTimeSource(),
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): AuthCore = withContext(dispatcher) {
            AuthCore(Authenticator.openOrCreate(path, keyStore, timeSource), dispatcher)
        }

        /** Opens an existing vault with its password (a restored backup, a new phone). */
        suspend fun openWithPassword(
            path: String,
            password: String,
            timeSource: TimeSource = systemTimeSource(),
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): AuthCore = withContext(dispatcher) {
            AuthCore(Authenticator.openWithPassword(path, password, timeSource), dispatcher)
        }
    }

    private suspend fun <T> io(block: Authenticator.() -> T): T =
        withContext(dispatcher) { authenticator.block() }

    /** Adds what a scanned QR code carries (`otpauth://` or a Google Authenticator transfer QR). */
    suspend fun addUri(uri: String): List<AddedAccount> = io { addUri(uri) }

    suspend fun accounts(): List<Account> = io { accounts() }

    suspend fun search(query: String): List<Account> = io { search(query) }

    suspend fun codes(query: String? = null): List<AccountCode> = io { codes(query) }

    suspend fun nextHotp(id: String): HotpCode = io { nextHotp(id) }

    suspend fun rename(id: String, issuer: String? = null, label: String? = null): Account =
        io { rename(id, issuer, label) }

    suspend fun setGroup(id: String, group: String?): Account = io { setGroup(id, group) }

    suspend fun setNote(id: String, note: String?): Account = io { setNote(id, note) }

    suspend fun move(id: String, position: Int): Account = io { moveAccount(id, position.toUInt()) }

    suspend fun delete(id: String): Account = io { delete(id) }

    suspend fun setClockOffset(seconds: Long) = io { setClockOffset(seconds) }

    /**
     * Every time-based account's current code, emitted at once and then at the start of every
     * second, each with its countdown (`validFor`) and the next code: collect it in the account
     * list screen while it is visible.
     */
    fun codesFlow(query: String? = null, tickMillis: Long = 1_000): Flow<List<AccountCode>> = flow {
        while (true) {
            emit(authenticator.codes(query))
            delay(tickMillis - System.currentTimeMillis() % tickMillis)
        }
    }.flowOn(dispatcher)

    override fun close() = authenticator.close()
}
