/// How hard zonectl pushes changes to secondaries, and how often it looks again.
public struct PropagationConfiguration: Sendable {
    /// Threads sending NOTIFYs and checking serials; each talks to one server at a time, so
    /// this is how many servers are worked on at once.
    public var workers = 8
    /// NOTIFYs sent for one serial before waiting `checkInterval` between tries.
    public var notifyAttempts = 10
    /// The first retry waits this long; each further one twice as long, up to `retryMax`.
    public var retryBase = 1.0
    public var retryMax = 60.0
    /// How long after an acknowledged NOTIFY zonectl keeps asking the server for the new serial
    /// before leaving it to the retry schedule.
    public var transferWait = 5.0
    /// How often a server that has the current serial is asked again (it may have lost the
    /// zone, or been rebuilt).
    public var checkInterval = 300.0
    /// Seconds between a change and the work it causes, so a burst of changes to one zone costs
    /// one NOTIFY per server (BIND's notify-delay does the same). 0: at once.
    public var notifyDelay = 0.0
    /// How long a claimed zone × server pair stays with its worker before another may take it
    /// (the worker died, or its process).
    public var leaseSeconds = 30.0

    public init() {}

    /// Seconds before try number `attempts + 1` (attempts ≥ 1).
    func backoff(afterAttempts attempts: Int64) -> Double {
        let exponent = Double(min(max(attempts - 1, 0), 30))
        return min(retryMax, retryBase * Double(1 << Int(exponent)))
    }
}
