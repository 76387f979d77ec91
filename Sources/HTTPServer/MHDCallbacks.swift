import CMicroHTTPD

// libmicrohttpd calls these from its worker threads. They are global functions, not closures,
// so no actor isolation is inferred for them; context arrives through `cls` as an Unmanaged
// pointer.

func zonectlAccessHandler(
    _ cls: UnsafeMutableRawPointer?,
    _ connection: OpaquePointer?,
    _ url: UnsafePointer<CChar>?,
    _ method: UnsafePointer<CChar>?,
    _ version: UnsafePointer<CChar>?,
    _ uploadData: UnsafePointer<CChar>?,
    _ uploadDataSize: UnsafeMutablePointer<Int>?,
    _ requestState: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    guard let cls, let connection, let requestState, let uploadDataSize else { return .NO }
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    guard let existing = requestState.pointee else {
        let context = server.beginRequest(
            connection: connection,
            method: method.map { String(cString: $0) } ?? "GET",
            rawPath: url.map { String(cString: $0) } ?? "/")
        requestState.pointee = Unmanaged.passRetained(context).toOpaque()
        return .YES
    }
    let context = Unmanaged<RequestContext>.fromOpaque(existing).takeUnretainedValue()
    if uploadDataSize.pointee > 0 {
        let chunk = UnsafeRawBufferPointer(start: uploadData, count: uploadDataSize.pointee)
        uploadDataSize.pointee = 0
        return server.receiveBody(chunk, for: context) ? .YES : .NO
    }
    server.finishRequest(connection: connection, context: context)
    return .YES
}

func zonectlRequestCompleted(
    _ cls: UnsafeMutableRawPointer?,
    _ connection: OpaquePointer?,
    _ requestState: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    _ termination: MHD_RequestTerminationCode
) {
    guard let cls, let requestState, let state = requestState.pointee else { return }
    requestState.pointee = nil
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    let context = Unmanaged<RequestContext>.fromOpaque(state).takeRetainedValue()
    server.endRequest(context, termination: termination)
}

func zonectlHeaderCollector(
    _ cls: UnsafeMutableRawPointer?,
    _ kind: MHD_ValueKind,
    _ key: UnsafePointer<CChar>?,
    _ keySize: Int,
    _ value: UnsafePointer<CChar>?,
    _ valueSize: Int
) -> MHD_Result {
    guard let cls, let key else { return .YES }
    let collector = Unmanaged<FieldCollector>.fromOpaque(cls).takeUnretainedValue()
    let name = String(decoding: UnsafeRawBufferPointer(start: key, count: keySize), as: UTF8.self)
    let text = value.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: valueSize), as: UTF8.self) } ?? ""
    collector.fields.append((name, text))
    return .YES
}

func zonectlStreamReader(
    _ cls: UnsafeMutableRawPointer?,
    _ position: UInt64,
    _ buffer: UnsafeMutablePointer<CChar>?,
    _ capacity: Int
) -> Int {
    guard let cls, let buffer, capacity > 0 else { return MHD_CONTENT_READER_END_WITH_ERROR }
    let stream = Unmanaged<BodyStream>.fromOpaque(cls).takeUnretainedValue()
    switch stream.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: capacity)) {
    case .some(0): return MHD_CONTENT_READER_END_OF_STREAM
    case .some(let count): return count
    case .none: return MHD_CONTENT_READER_END_WITH_ERROR
    }
}

func zonectlStreamFree(_ cls: UnsafeMutableRawPointer?) {
    guard let cls else { return }
    let stream = Unmanaged<BodyStream>.fromOpaque(cls).takeRetainedValue()
    stream.cancel()
}

/// For a HEAD answer that announces a length: libmicrohttpd never reads a HEAD body.
func zonectlNoBodyReader(
    _ cls: UnsafeMutableRawPointer?,
    _ position: UInt64,
    _ buffer: UnsafeMutablePointer<CChar>?,
    _ capacity: Int
) -> Int {
    MHD_CONTENT_READER_END_WITH_ERROR
}

/// Receives header or query fields from `MHD_get_connection_values_n`, in order.
final class FieldCollector {
    var fields: [(String, String)] = []
}
