package org.authcore

import android.content.Context
import java.io.File
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers

/**
 * How an Android app opens authcore: [AuthCore.open] with everything an Android app must pass
 * already chosen, so none can be forgotten or set to a desktop value by mistake:
 * [Platform.ANDROID] (its passwordless rule gates approvals), the master key wrapped by the
 * Android Keystore ([AndroidKeystoreVaultKeyStore]), push device keys kept in the Keystore
 * ([AndroidKeystoreDeviceKeyStore]) and push requests carried by the platform's HTTP stack
 * ([HttpUrlConnectionTransport]), with the core's diagnostics in Logcat ([LogcatSink]). Every default can be replaced (an OkHttp transport, a
 * different Keystore alias); the platform cannot.
 */
object AndroidAuthCore {
    /** The vault's default file name, in [vaultFile]'s directory. */
    const val DEFAULT_VAULT_NAME = "authcore-vault.sqlite"

    /**
     * Where the vault lives by default: the app's no-backup directory. A backup restored on
     * another phone could not be opened anyway (its master key is wrapped by this phone's
     * Keystore); moving to a new phone goes through the vault's password or an export.
     */
    fun vaultFile(context: Context, name: String = DEFAULT_VAULT_NAME): File = File(context.noBackupFilesDir, name)

    /** Opens (or creates) the vault named [name] in the app's no-backup directory. */
    suspend fun open(
        context: Context,
        name: String = DEFAULT_VAULT_NAME,
        keyStore: VaultKeyStore = AndroidKeystoreVaultKeyStore(),
        deviceKeys: DeviceKeys = keystoreDeviceKeys(),
        transport: HttpTransport = HttpUrlConnectionTransport(),
        timeSource: TimeSource = SystemTimeSource,
        logger: LogSink? = LogcatSink(),
        dispatcher: CoroutineDispatcher = Dispatchers.IO,
    ): AuthCore = open(vaultFile(context, name).path, keyStore, deviceKeys, transport, timeSource, logger, dispatcher)

    /** Opens (or creates) the vault at [path]. */
    suspend fun open(
        path: String,
        keyStore: VaultKeyStore = AndroidKeystoreVaultKeyStore(),
        deviceKeys: DeviceKeys = keystoreDeviceKeys(),
        transport: HttpTransport = HttpUrlConnectionTransport(),
        timeSource: TimeSource = SystemTimeSource,
        logger: LogSink? = LogcatSink(),
        dispatcher: CoroutineDispatcher = Dispatchers.IO,
    ): AuthCore = AuthCore.open(path, keyStore, Platform.ANDROID, deviceKeys, transport, timeSource, logger, dispatcher)

    /**
     * Opens the vault at [path] with its password (a restored backup, a new phone); new push
     * tokens then keep their keys in this phone's Keystore.
     */
    suspend fun openWithPassword(
        path: String,
        password: String,
        deviceKeys: DeviceKeys = keystoreDeviceKeys(),
        transport: HttpTransport = HttpUrlConnectionTransport(),
        timeSource: TimeSource = SystemTimeSource,
        logger: LogSink? = LogcatSink(),
        dispatcher: CoroutineDispatcher = Dispatchers.IO,
    ): AuthCore = AuthCore.openWithPassword(path, password, Platform.ANDROID, deviceKeys, transport, timeSource, logger, dispatcher)

    /** Push device keys in the Android Keystore, under [AndroidKeystoreDeviceKeyStore]'s defaults. */
    fun keystoreDeviceKeys(): DeviceKeys = DeviceKeys.PlatformStore(AndroidKeystoreDeviceKeyStore())
}
