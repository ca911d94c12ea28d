import CCurl

/// Owns one curl easy handle: its connection cache, TLS session and error buffer.
///
/// `@unchecked Sendable`: a connection is used by one thread at a time — the client's pool
/// hands it out to a single request and takes it back afterwards, under a lock.
final class CurlConnection: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init() {
        // curl_easy_init only fails when memory is exhausted.
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// Collects the response while libcurl delivers it.
    private final class Accumulator {
        var status = 0
        var headers: [(name: String, value: String)] = []
        var body: [UInt8] = []
        var onBody: (@Sendable ([UInt8]) -> Bool)?
        var stopped = false
    }

    /// What the request in progress needs until it ends.
    private var accumulator = Accumulator()
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var request: HTTPRequest?

    /// The easy handle, for the multi loop (which adds and removes it, never configures it).
    var easyHandle: UnsafeMutableRawPointer { handle }

    /// Sends a request on the calling thread and waits for its response.
    func perform(_ request: HTTPRequest, configuration: HTTPClientConfiguration) -> Result<HTTPResponse, HTTPError> {
        if let failure = prepare(request, configuration: configuration) { return .failure(failure) }
        return finish(curl_easy_perform(handle))
    }

    /// Sets the handle up for `request` (after forgetting the last request's options, not its
    /// connection). Returns the error when an option was refused.
    func prepare(_ request: HTTPRequest, configuration: HTTPClientConfiguration) -> HTTPError? {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        curl_slist_free_all(headerList)
        headerList = nil
        accumulator = Accumulator()
        accumulator.onBody = request.onBody
        self.request = request
        let context = Unmanaged.passUnretained(accumulator).toOpaque()

        func fail(_ code: CURLcode, _ what: String) -> HTTPError {
            HTTPError(
                kind: .invalidRequest, method: request.method, url: request.url, curlCode: Int32(code.rawValue),
                message: "\(what): \(String(cString: curl_easy_strerror(code)))")
        }
        var code = CURLE_OK
        func set(_ option: CURLoption, _ value: Int) { if code == CURLE_OK { code = tai_curl_setopt_long(handle, option, value) } }
        func set(_ option: CURLoption, _ value: String) { if code == CURLE_OK { code = tai_curl_setopt_string(handle, option, value) } }
        func setBlob(_ option: CURLoption, _ bytes: [UInt8]) {
            guard code == CURLE_OK else { return }
            var copy = bytes
            code = copy.withUnsafeMutableBytes { tai_curl_setopt_blob(handle, option, $0.baseAddress, $0.count) }
        }

        set(CURLOPT_URL, request.url)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_USERAGENT, configuration.userAgent)
        set(CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeout.milliseconds)
        if let timeout = request.timeout ?? configuration.requestTimeout { set(CURLOPT_TIMEOUT_MS, timeout.milliseconds) }
        if code == CURLE_OK { code = tai_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer) }

        switch request.method {
        case .get: set(CURLOPT_HTTPGET, 1)
        case .head: set(CURLOPT_NOBODY, 1)
        case .post: set(CURLOPT_POST, 1)
        case .put, .patch, .delete: set(CURLOPT_CUSTOMREQUEST, request.method.rawValue)
        }
        if let body = request.body {
            // COPYPOSTFIELDS: libcurl keeps its own copy, so the array may go away.
            set(CURLOPT_POSTFIELDSIZE, body.count)
            if body.isEmpty {
                set(CURLOPT_COPYPOSTFIELDS, "")
            } else if code == CURLE_OK {
                var copy = body
                code = copy.withUnsafeMutableBytes { tai_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
            }
        } else if request.method == .post {
            set(CURLOPT_POSTFIELDSIZE, 0)
            set(CURLOPT_COPYPOSTFIELDS, "")
        }

        // TLS
        let tls = configuration.tls
        if let caFile = tls.caFile { set(CURLOPT_CAINFO, caFile) }
        if let caData = tls.caData { setBlob(CURLOPT_CAINFO_BLOB, caData) }
        if let file = tls.clientCertificateFile { set(CURLOPT_SSLCERT, file) }
        if let file = tls.clientKeyFile { set(CURLOPT_SSLKEY, file) }
        if let data = tls.clientCertificateData {
            setBlob(CURLOPT_SSLCERT_BLOB, data)
            set(CURLOPT_SSLCERTTYPE, "PEM")
        }
        if let data = tls.clientKeyData {
            setBlob(CURLOPT_SSLKEY_BLOB, data)
            set(CURLOPT_SSLKEYTYPE, "PEM")
        }
        if tls.insecureSkipVerify {
            set(CURLOPT_SSL_VERIFYPEER, 0)
            set(CURLOPT_SSL_VERIFYHOST, 0)
        }

        // Headers; an empty `Expect:` stops libcurl waiting for `100 Continue` on uploads.
        var hasExpect = false
        for (name, value) in request.headers {
            if name.lowercased() == "expect" { hasExpect = true }
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        if !hasExpect { headerList = curl_slist_append(headerList, "Expect:") }
        if code == CURLE_OK { code = tai_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList) }

        // Callbacks
        if code == CURLE_OK {
            code = tai_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, user in
                guard let data, let user else { return 0 }
                let accumulator = Unmanaged<Accumulator>.fromOpaque(user).takeUnretainedValue()
                let n = size * count
                let chunk = data.withMemoryRebound(to: UInt8.self, capacity: n) { bytes in Array(UnsafeBufferPointer(start: bytes, count: n)) }
                if let onBody = accumulator.onBody, (200..<300).contains(accumulator.status) {
                    guard onBody(chunk) else {
                        accumulator.stopped = true
                        return 0
                    }
                } else {
                    accumulator.body.append(contentsOf: chunk)
                }
                return n
            }
        }
        if code == CURLE_OK { code = tai_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context) }
        if code == CURLE_OK {
            code = tai_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, user in
                guard let data, let user else { return 0 }
                let accumulator = Unmanaged<Accumulator>.fromOpaque(user).takeUnretainedValue()
                let n = size * count
                data.withMemoryRebound(to: UInt8.self, capacity: n) { bytes in
                    CurlConnection.parseHeaderLine(UnsafeBufferPointer(start: bytes, count: n), into: accumulator)
                }
                return n
            }
        }
        if code == CURLE_OK { code = tai_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context) }
        guard code == CURLE_OK else { return fail(code, "setting up the request") }
        return nil
    }

    /// The response (or error) of the prepared request, once libcurl finished it with `result`.
    func finish(_ result: CURLcode) -> Result<HTTPResponse, HTTPError> {
        defer {
            curl_slist_free_all(headerList)
            headerList = nil
            request = nil
        }
        guard let request else {
            return .failure(HTTPError(kind: .invalidRequest, method: .get, url: "", curlCode: 0, message: "no request was prepared"))
        }

        // A streamed body the caller stopped is a normal end.
        guard result == CURLE_OK || (result == CURLE_WRITE_ERROR && accumulator.stopped) else {
            let detail = String(cString: errorBuffer)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
            return .failure(
                HTTPError(
                    kind: Self.kind(of: result), method: request.method, url: request.url, curlCode: Int32(result.rawValue),
                    message: message))
        }
        var status = 0
        _ = tai_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: accumulator.headers, body: accumulator.body))
    }

    /// One header line as curl hands it over (with its CR LF): a status line or `Name: value`.
    private static func parseHeaderLine(_ raw: UnsafeBufferPointer<UInt8>, into accumulator: Accumulator) {
        var end = raw.count
        while end > 0, raw[end - 1] == 0x0A || raw[end - 1] == 0x0D { end -= 1 }
        let line = raw[0..<end]
        if line.starts(with: "HTTP/".utf8) {
            // A new status line (after a redirect or `100 Continue`) starts a new header block.
            accumulator.headers.removeAll()
            guard let space = line.firstIndex(of: 0x20) else { return }
            var status = 0
            var index = space + 1
            while index < end, raw[index] >= 0x30, raw[index] <= 0x39, status < 1000 {
                status = status * 10 + Int(raw[index] - 0x30)
                index += 1
            }
            if index > space + 1 { accumulator.status = status }
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        var valueStart = colon + 1
        while valueStart < end, raw[valueStart] == 0x20 || raw[valueStart] == 0x09 { valueStart += 1 }
        accumulator.headers.append(
            (String(decoding: UnsafeBufferPointer(rebasing: raw[0..<colon]), as: UTF8.self),
             String(decoding: UnsafeBufferPointer(rebasing: raw[valueStart..<end]), as: UTF8.self)))
    }

    private static func kind(of code: CURLcode) -> HTTPError.Kind {
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .couldNotConnect
        case CURLE_OPERATION_TIMEDOUT: .timedOut
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE:
            .tls
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: .invalidRequest
        default: .transport
        }
    }
}

