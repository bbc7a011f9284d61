package org.authcore

import android.util.Log

/**
 * The core's diagnostics in Logcat, under [tag] (`adb logcat -s authcore`), `Debug` lines only
 * when [debug] is true (an app passes `BuildConfig.DEBUG`). The core never logs a secret; the
 * messages are safe to attach to a bug report.
 */
class LogcatSink(private val tag: String = "authcore", private val debug: Boolean = false) : LogSink {
    override fun log(level: LogLevel, target: String, message: String) {
        val line = "$target: $message"
        when (level) {
            LogLevel.ERROR -> Log.e(tag, line)
            LogLevel.WARN -> Log.w(tag, line)
            LogLevel.INFO -> Log.i(tag, line)
            LogLevel.DEBUG -> if (debug) Log.d(tag, line)
        }
    }
}
