#if canImport(os)
import os

/// The core's diagnostics in the unified log (Console.app, `log stream --predicate
/// 'subsystem == "org.authcore"'`), category = the part of the core (`vault`, `push`,
/// `import`). The core never logs a secret, so messages are `.public`.
public final class OSLogSink: LogSink, @unchecked Sendable {
    private let subsystem: String

    public init(subsystem: String = "org.authcore") {
        self.subsystem = subsystem
    }

    public func log(level: LogLevel, target: String, message: String) {
        let logger = Logger(subsystem: subsystem, category: target)
        switch level {
        case .error: logger.error("\(message, privacy: .public)")
        case .warn: logger.warning("\(message, privacy: .public)")
        case .info: logger.info("\(message, privacy: .public)")
        case .debug: logger.debug("\(message, privacy: .public)")
        }
    }
}
#endif
