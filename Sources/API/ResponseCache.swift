import Foundation
import HTTPServer

/// Finished responses kept by key, least recently used dropped first once their bodies pass
/// `capacityBytes`.
///
/// Used for RRset pages: the key holds the zone's id and serial, and every change of a zone's
/// records changes its serial, so an entry can never be served for content it does not show;
/// entries of old serials simply age out.
final class ResponseCache: @unchecked Sendable {
    private final class Entry {
        let key: String
        let response: HTTPResponse
        let cost: Int
        var newer: Entry?
        weak var older: Entry?
        init(key: String, response: HTTPResponse, cost: Int) {
            self.key = key
            self.response = response
            self.cost = cost
        }
    }

    let capacityBytes: Int
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    /// Least recently used end; `newest` is the other. `newer` links own the chain.
    private var oldest: Entry?
    private weak var newest: Entry?
    private var usedBytes = 0

    /// 0 turns the cache off.
    init(capacityBytes: Int) {
        self.capacityBytes = max(0, capacityBytes)
    }

    var isEnabled: Bool { capacityBytes > 0 }

    /// Bytes held now (bodies and keys).
    var bytesHeld: Int {
        lock.lock()
        defer { lock.unlock() }
        return usedBytes
    }

    func response(for key: String) -> HTTPResponse? {
        guard isEnabled else { return nil }
        lock.lock()
        defer { lock.unlock() }
        guard let entry = entries[key] else { return nil }
        unlink(entry)
        append(entry)
        return entry.response
    }

    /// Keeps `response` unless it is a stream or alone larger than the whole cache.
    func store(_ response: HTTPResponse, for key: String) {
        guard isEnabled, case .bytes(let body) = response.body else { return }
        let cost = body.count + key.utf8.count + response.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
        guard cost <= capacityBytes else { return }
        lock.lock()
        defer { lock.unlock() }
        if let existing = entries.removeValue(forKey: key) {
            unlink(existing)
            usedBytes -= existing.cost
        }
        while usedBytes + cost > capacityBytes, let victim = oldest {
            unlink(victim)
            entries[victim.key] = nil
            usedBytes -= victim.cost
        }
        let entry = Entry(key: key, response: response, cost: cost)
        entries[key] = entry
        append(entry)
        usedBytes += cost
    }

    private func unlink(_ entry: Entry) {
        let older = entry.older
        let newer = entry.newer
        if let older { older.newer = newer } else { oldest = newer }
        if let newer { newer.older = older } else { newest = older }
        entry.newer = nil
        entry.older = nil
    }

    private func append(_ entry: Entry) {
        if let newest {
            newest.newer = entry
            entry.older = newest
        } else {
            oldest = entry
        }
        newest = entry
    }
}
